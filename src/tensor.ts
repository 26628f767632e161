// The Tensor type: a shape, a dtype and a reference-counted GPU buffer. Contiguous, row-major.
// Data leaves the GPU only through the async `data()`, `array()` and `item()`.
import { currentEngine, engine } from './gpu/device.js';
import type { Engine } from './gpu/engine.js';

/** Element type of a tensor: 32-bit float (what every differentiable op takes) or 32-bit integer (indices, labels). */
export type DType = 'f32' | 'i32';
/** The dtypes a tensor can have; anything else is refused by name when a tensor is made. */
export const DTYPES: readonly DType[] = ['f32', 'i32'];

/** Throws unless `dtype` is one of DTYPES (a JavaScript caller can pass any string). */
export function checkDType(what: string, dtype: unknown): DType {
  if (!DTYPES.includes(dtype as DType)) {
    throw new Error(`hypertape: ${what}: unsupported dtype ${JSON.stringify(dtype)}; ` +
      `tensors hold ${DTYPES.join(' or ')} (f32 for values, i32 for labels and indices; there is no f64 on WebGPU).`);
  }
  return dtype as DType;
}
/** Dimensions of a tensor, outermost first (row-major); `[]` is a scalar. */
export type Shape = readonly number[];

/**
 * A GPU buffer shared by a tensor and its reshapes; returned to the pool of the engine that made
 * it when the last user lets go. A buffer never moves to another device: once its engine is
 * replaced by a later init() or its device is lost, releasing it does nothing (the device
 * freed it).
 */
export class Storage {
  refs = 1;
  /**
   * `internal`: an engine-owned buffer (cached constants) that memory() does not count.
   * `owner`: the engine whose device holds the buffer (default: the current one).
   */
  constructor(readonly buffer: GPUBuffer, readonly bytes: number, readonly internal = false, readonly owner: Engine = engine()) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0 && this.owner.usable) this.owner.releaseBuffer(this.buffer, { internal: this.internal });
  }
}

/** Why a storage cannot be used now (its device was replaced or lost), or null if it can. */
function staleReason(st: Storage): string | null {
  if (st.owner.usable && st.owner === currentEngine()) return null;
  return st.owner.lostMessage ?? 'its GPU device was replaced by a later init()';
}

/**
 * @internal A value not computed yet: the lazy ops layer (src/ops/fusion/) gives elementwise ops
 * a pending output, computed by one fused kernel when its storage is first needed. Tensor only
 * counts references to it and asks it for its storage; it knows nothing of kernels.
 */
export interface PendingValue {
  /** Computes the value once (later calls return the same storage; the pending value keeps one reference to it). */
  realise(): Storage;
  /** Another reference (a handle made by `ref()`). */
  retain(): void;
  /** Drops a reference; the last one frees what the value holds (its inputs or its storage). */
  release(): void;
}

/** State shared by every handle of one tensor value (see `Tensor.ref`). */
interface Shared {
  handles: number;
  /**
   * Forward-mode tangents, one per jvp level that computed this value (nested jvps give a value
   * several); each is meaningful only while its level is active.
   */
  tangents?: { level: number; value: Tensor }[];
}

let nextId = 1;

// ---- scopes ---------------------------------------------------------------------------------

const scopes: Set<Tensor>[] = [];

function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Collects every tensor reachable from `value` (a tensor, or arrays/objects of them). */
export function tensorsIn(value: unknown, out: Tensor[] = []): Tensor[] {
  if (value instanceof Tensor) out.push(value);
  else if (Array.isArray(value)) for (const v of value) tensorsIn(v, out);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) tensorsIn(v, out);
  }
  return out;
}

/**
 * Runs `fn` and disposes every tensor created inside it except those it returns (found in
 * arrays and plain objects too) and those passed to `keep`. Scopes nest; kept tensors belong to
 * the enclosing scope. `fn` must be synchronous. Pending (lazy) results are computed before the
 * scope closes, so that nothing made inside it stays alive through them.
 */
export function tidy<T>(fn: () => T): T {
  return scoped(fn, true);
}

/**
 * @internal tidy() that lets its pending results stay pending: for autodiff's rule scopes (a VJP
 * or JVP rule), whose results are consumed at once by the next rule, so that chains of rules fuse.
 */
export function tidyPending<T>(fn: () => T): T {
  return scoped(fn, false);
}

function scoped<T>(fn: () => T, realise: boolean): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new Error('hypertape: tidy() takes a synchronous function; await outside it and dispose() what you keep.');
    }
  } catch (e) {
    scopes.pop();
    for (const t of scope) if (!t.disposed) t.dispose();
    throw e;
  }
  scopes.pop();
  const keepSet = new Set(tensorsIn(result));
  // The scope's other tensors go first, then the results are computed: a pending result then
  // knows which of the values it reads nothing else will (a matmul whose only reader is the
  // result becomes its kernel's epilogue). Its pending graph holds what it reads.
  for (const t of scope) if (!keepSet.has(t) && !t.disposed) t.dispose();
  if (realise) {
    try {
      for (const t of keepSet) if (!t.disposed) t.realise();
    } catch (e) {
      for (const t of scope) if (keepSet.has(t) && !t.disposed) t.dispose();
      throw e;
    }
  }
  for (const t of scope) if (keepSet.has(t)) track(t);
  return result;
}

/**
 * Exempts tensors from the enclosing tidy() scopes. Pending (lazy) ones are computed now, so that
 * they do not keep the scope's temporaries alive.
 */
export function keep<T>(value: T): T {
  for (const t of tensorsIn(value)) {
    if (!t.disposed) t.realise();
    for (const s of scopes) s.delete(t);
  }
  return value;
}

/** Disposes every tensor found in `value` (arrays and plain objects are searched). */
export function dispose(value: unknown): void {
  for (const t of tensorsIn(value)) if (!t.disposed) t.dispose();
}

// ---- Tensor ---------------------------------------------------------------------------------

/** The number of elements of a shape (1 for `[]`). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * An n-dimensional array on the GPU: a shape, a dtype and a reference-counted GPU buffer
 * (contiguous, row-major). Made by {@link tensor}, {@link zeros} and friends, and by every op;
 * freed by {@link Tensor.dispose | dispose()} or by the enclosing {@link tidy}. Its contents come
 * back to the CPU only through the async {@link Tensor.data | data()}, {@link Tensor.array | array()}
 * and {@link Tensor.item | item()}.
 */
export class Tensor {
  /** Identity of the value; aliases made with `ref()` share it. */
  readonly id: number;
  /** The dimensions, outermost first (frozen). */
  readonly shape: Shape;
  /** 'f32' or 'i32'. */
  readonly dtype: DType;
  /** The number of elements (the product of the dimensions). */
  readonly size: number;
  /** An optional label used in error messages. */
  name?: string;
  /**
   * @internal The smallest and largest value, when known on the CPU without a readback (i32
   * tensors made from CPU data or by arange): gather and oneHot check indices against it at once.
   */
  knownRange?: readonly [number, number];
  private _storage: Storage | null;
  /** A value not computed yet (then `_storage` is null until it is realised). */
  private _pending: PendingValue | null = null;
  private readonly shared: Shared;

  /**
   * @internal Tensors come from {@link tensor}, {@link zeros}, ... and ops, not from this
   * constructor. A PendingValue makes a pending tensor; the constructor takes over the caller's
   * reference to it (as it does to a Storage).
   */
  constructor(storage: Storage | PendingValue, shape: Shape, dtype: DType, opts: { untracked?: boolean; id?: number; shared?: Shared } = {}) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`hypertape: invalid shape ${shapeStr(shape)}: dims must be non-negative integers`);
    }
    if (storage instanceof Storage) this._storage = storage;
    else {
      this._storage = null;
      this._pending = storage;
    }
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.id = opts.id ?? nextId++;
    this.shared = opts.shared ?? { handles: 0 };
    this.shared.handles++;
    if (!opts.untracked) track(this);
  }

  /** The number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** True once {@link Tensor.dispose | dispose()} has run (or tidy() disposed it); a disposed tensor cannot be used. */
  get disposed(): boolean {
    return this._storage === null && this._pending === null;
  }

  /**
   * @internal The lazy value this tensor waits for, or null once it has storage (see
   * src/ops/fusion/). Reading `storage` computes it.
   */
  get pending(): PendingValue | null {
    return this._pending;
  }

  /**
   * @internal The GPU storage; throws if this tensor was disposed or its device is gone. A
   * pending tensor is computed here (its fused kernel is dispatched) the first time.
   */
  get storage(): Storage {
    if (this._pending) this.realisePending(this._pending);
    const st = this._storage;
    if (!st) {
      throw new Error(`hypertape: tensor ${this.describe()} was disposed and cannot be used again ` +
        `(keep it alive by returning it from tidy(), or keep(), or dispose it later).`);
    }
    if (st.owner !== currentEngine() || !st.owner.usable) {
      throw new Error(`hypertape: tensor ${this.describe()} cannot be used: ${staleReason(st)}. ` +
        'Tensors live on the device they were made on; make it again after init() (e.g. from values read with data() before). ' +
        'dispose() on it is harmless.');
    }
    return st;
  }

  private realisePending(p: PendingValue): void {
    const st = p.realise(); // throws (and changes nothing) when an input is gone
    this._storage = st.retain();
    this._pending = null;
    p.release();
  }

  /** @internal Computes a pending tensor now (no-op when it has storage); returns this. */
  realise(): this {
    if (this._pending) void this.storage;
    return this;
  }

  /** The GPUBuffer holding the data (at offset 0, `size * 4` bytes); throws if disposed. */
  get buffer(): GPUBuffer {
    return this.storage.buffer;
  }

  /** A short description for messages: name (if any), id, dtype and shape, e.g. `#12 f32[3, 4]`. */
  describe(): string {
    return `${this.name ? `'${this.name}' ` : ''}#${this.id} ${this.dtype}${shapeStr(this.shape)}`;
  }

  /** `Tensor(<describe()>)`. */
  toString(): string {
    return `Tensor(${this.describe()})`;
  }

  /**
   * Another handle on the same value (same id, same buffer), with its own dispose(); not
   * collected by tidy() unless `tracked`. Tapes use it to keep what a backward pass needs alive.
   * A pending value stays pending: both handles share it, and whichever needs it first computes
   * it for both.
   */
  ref(tracked = false): Tensor {
    const opts = { untracked: !tracked, id: this.id, shared: this.shared };
    if (this._pending && !this._storage) {
      this._pending.retain();
      return new Tensor(this._pending, this.shape, this.dtype, opts);
    }
    const handle = new Tensor(this.storage.retain(), this.shape, this.dtype, opts);
    handle.knownRange = this.knownRange;
    return handle;
  }

  /**
   * @internal The same buffer under another shape, as a new value that autodiff does not know
   * about (ops use it to build their outputs). Use `reshape` in user code.
   */
  untracedView(shape: Shape): Tensor {
    const view = new Tensor(this.storage.retain(), shape, this.dtype);
    view.knownRange = this.knownRange;
    return view;
  }

  /** Releases this handle's GPU buffer (back to the pool when no other handle shares it). Idempotent. */
  dispose(): void {
    if (this._pending) {
      this._pending.release();
      this._pending = null;
    } else if (this._storage) {
      this._storage.release();
      this._storage = null;
    } else return;
    if (--this.shared.handles === 0 && this.shared.tangents) {
      for (const t of this.shared.tangents) t.value.dispose();
      this.shared.tangents = undefined;
    }
  }

  /** @internal forward mode: the tangent attached at `level`, if any. */
  tangentAt(level: number): Tensor | undefined {
    const t = this.shared.tangents?.find((e) => e.level === level);
    return t && !t.value.disposed ? t.value : undefined;
  }

  /** @internal attaches a tangent at `level` (an alias of `value`; the caller keeps its own handle). */
  setTangent(level: number, value: Tensor): void {
    this.takeTangent(level)?.dispose();
    (this.shared.tangents ??= []).push({ level, value: value.ref() });
  }

  /** @internal detaches the tangent at `level` without disposing it; the caller takes ownership. */
  takeTangent(level: number): Tensor | undefined {
    const list = this.shared.tangents;
    const i = list ? list.findIndex((e) => e.level === level) : -1;
    if (i < 0) return undefined;
    const [t] = list!.splice(i, 1);
    if (list!.length === 0) this.shared.tangents = undefined;
    return t!.value;
  }

  /** Copies the contents to the CPU: Float32Array for f32, Int32Array for i32. */
  async data(): Promise<Float32Array | Int32Array> {
    const st = this.storage;
    const bytes = this.size * 4;
    if (bytes === 0) return this.dtype === 'f32' ? new Float32Array(0) : new Int32Array(0);
    st.retain();
    try {
      const raw = await st.owner.read(st.buffer, 0, bytes);
      return this.dtype === 'f32' ? new Float32Array(raw) : new Int32Array(raw);
    } finally {
      st.release();
    }
  }

  /** Contents as nested arrays (a number for rank 0). */
  async array(): Promise<NestedArray> {
    const flat = Array.from(await this.data());
    return nest(flat, this.shape);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`hypertape: item() needs a tensor with one element, got ${this.describe()}`);
    return (await this.data())[0]!;
  }
}

/** A number or nested arrays of numbers (what {@link Tensor.array} returns and {@link tensor} accepts). */
export type NestedArray = number | NestedArray[];

function nest(flat: number[], shape: Shape): NestedArray {
  if (shape.length === 0) return flat[0]!;
  const [d, ...rest] = shape;
  const inner = sizeOf(rest);
  const out: NestedArray[] = [];
  for (let i = 0; i < d!; i++) out.push(nest(flat.slice(i * inner, (i + 1) * inner), rest));
  return out;
}

// ---- allocation -----------------------------------------------------------------------------

/** A new, uninitialised tensor (the caller fills it with a kernel). */
export function empty(shape: Shape, dtype: DType = 'f32'): Tensor {
  checkDType('empty', dtype);
  const bytes = checkAllocatable(shape, dtype);
  return new Tensor(new Storage(engine().acquireBuffer(bytes), bytes), shape, dtype);
}

/**
 * @internal Throws unless a tensor of `shape` can exist on this device (integer dims, at most the
 * bytes one kernel can bind); returns its bytes. Pending tensors are checked when they are made,
 * so the error points at the op that asked for too much, not at a later readback.
 */
export function checkAllocatable(shape: Shape, dtype: DType): number {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`hypertape: invalid shape ${shapeStr(shape)}: dims must be non-negative integers`);
  }
  const bytes = sizeOf(shape) * 4;
  const e = engine();
  if (bytes > e.maxBindingBytes) {
    throw new Error(`hypertape: a ${dtype}${shapeStr(shape)} tensor needs ${bytes.toLocaleString('en-US')} bytes, more than this device allows ` +
      `for one tensor (${e.maxBindingBytes.toLocaleString('en-US')} bytes = ${(e.maxBindingBytes / 4).toLocaleString('en-US')} values, maxStorageBufferBindingSize); ` +
      'split it into smaller tensors (e.g. batches).');
  }
  return bytes;
}

/** What {@link tensor} accepts: a number, nested arrays, or a flat array-like (with a shape). */
export type TensorLike = number | NestedArray | ArrayLike<number> | Float32Array | Int32Array;

function inferShape(data: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

function flatten(data: unknown, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof data !== 'number') throw new Error(`hypertape: tensor() expects numbers, found ${typeof data}`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new Error(`hypertape: ragged nested array: expected length ${shape[depth]} at depth ${depth} (shape ${shapeStr(shape)})`);
  }
  for (const d of data) flatten(d, shape, depth + 1, out);
}

/**
 * A tensor from a number, nested arrays or a typed array. `shape` is required for flat typed
 * arrays of rank > 1; dtype defaults to 'i32' for Int32Array and 'f32' otherwise.
 */
export function tensor(data: TensorLike, shape?: Shape, dtype?: DType): Tensor {
  let flat: ArrayLike<number>;
  let inferred: Shape;
  if (typeof data === 'number') {
    flat = [data];
    inferred = [];
  } else if (ArrayBuffer.isView(data)) {
    flat = data as ArrayLike<number>;
    inferred = [flat.length];
    dtype ??= data instanceof Int32Array ? 'i32' : 'f32';
  } else if (Array.isArray(data)) {
    inferred = inferShape(data);
    const out: number[] = [];
    flatten(data, inferred as number[], 0, out);
    flat = out;
  } else {
    flat = Array.from(data as ArrayLike<number>);
    inferred = [flat.length];
  }
  dtype = checkDType('tensor()', dtype ?? 'f32');
  const s = shape ?? inferred;
  if (sizeOf(s) !== flat.length) {
    throw new Error(`hypertape: tensor() got ${flat.length} values for shape ${shapeStr(s)} (${sizeOf(s)} needed)`);
  }
  const typed = dtype === 'f32' ? Float32Array.from(flat) : Int32Array.from(flat);
  if (dtype === 'i32' && !Array.from(flat).every((v) => Number.isInteger(v))) {
    throw new Error('hypertape: an i32 tensor needs integer values');
  }
  const t = empty(s, dtype);
  if (typed.byteLength > 0) engine().upload(t.buffer, typed);
  if (dtype === 'i32' && typed.length > 0) {
    let [lo, hi] = [typed[0]!, typed[0]!];
    for (const v of typed) {
      if (v < lo) lo = v;
      else if (v > hi) hi = v;
    }
    t.knownRange = [lo, hi];
  }
  return t;
}
