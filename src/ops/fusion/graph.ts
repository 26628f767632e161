// The lazy ops layer: elementwise ops and reductions return pending tensors holding an expression
// node (the op, its scalars, its inputs: other pending nodes, realised buffers read with offset
// and strides, or numbers). A pending tensor is realised, its whole pending graph computed by one
// generated kernel, when its storage is first needed (Tensor.storage: a non-fusible op, a
// readback), or when tidy() or keep() lets it out of a scope. A pending reduction is computed by
// its own kernel (its pending input computed as the kernel reads it) when it is needed or when a
// kernel that reads it is computed; dropped unread, it is never computed.
//
// Rules (DEVELOPERS.md, "Fusion"):
//  - A pending input is fused when the consumer reads it element for element (same shape), or,
//    when cheap, as a copy of its graph read through broadcast strides; otherwise it is realised
//    first and read as a buffer (broadcast buffers keep their strides). reshape keeps a graph of
//    contiguous leaves pending.
//  - A node retains the storage of every buffer it reads until it is realised or dropped, so
//    dispose() of an input, tidy() and the buffer pool can never take a buffer a pending node
//    still needs. Writes into a buffer that pending nodes read (elementwise's `out`, uploads,
//    copies) realise those nodes first (the engine's write hook).
//  - A node is computed once: its storage is cached, and its consumers then read that storage.
//  - A kernel stays within the device's storage-buffer limit, the 256-byte parameter block and
//    MAX_NODES nodes: an op that would exceed them realises its pending inputs first.
import { currentEngine, engine } from '../../gpu/device.js';
import { setWriteHook, type Engine } from '../../gpu/engine.js';
import { Storage, Tensor, checkAllocatable, shapeStr, sizeOf, type DType, type PendingValue, type Shape } from '../../tensor.js';
import { launchElementwise, modeOf, type BufferOperand } from '../kernels/elementwise.js';
import { checkMatmulGrid, matmulBuffers, matmulEpilogue, type Epilogue, type MatmulLayout } from '../kernels/matmul.js';
import { reduceARB, type ReduceKind } from '../kernels/reduce.js';
import { contiguousStrides } from '../kernels/template.js';
import { broadcastStrides } from '../shape.js';
import { paramBytesBound, type Arg, type OpCode, type PlanNode } from './codegen.js';
import { broadcastCopy } from './remap.js';

/** The most nodes one fused kernel computes (a long chain is cut into kernels of this size). */
export const MAX_NODES = 48;
/** The size of the parameter block every kernel binds (the engine's uniform slot). */
const PARAM_BYTES = 256;

let fusionOn = true;

/**
 * @internal x's pending node, when another pending op may read it in place (fusion on, not
 * computed yet, made on the current, usable device); else null (read x's storage instead).
 */
export function pendingNode(x: Tensor): LazyNode | null {
  const node = x.pending;
  const e = currentEngine();
  return fusionOn && node instanceof LazyNode && !node.realised && e !== null && node.owner === e && e.usable ? node : null;
}

/**
 * Turns fusion off (every elementwise op is computed at once, one kernel per op, as without the
 * lazy layer) or back on. For tests and benchmarks that compare the two; returns the previous setting.
 */
export function setFusion(on: boolean): boolean {
  const prev = fusionOn;
  fusionOn = on;
  return prev;
}

/** A buffer a node reads: a retained storage, its element type, offset and strides over the node's shape. */
export interface Leaf extends BufferOperand {
  /** Identifies the read (storage, offset, strides), so that one kernel binds it once. */
  key: string;
}

/** A number a node reads (from the kernel's parameters, not a buffer). */
interface Constant {
  value: number;
}

/** An input of a node: another node, a buffer read, or a number. */
export type Input = LazyNode | Leaf | Constant;

/** Numbers objects in the order first asked about (keys that identify a storage or a node). */
function idsOf<T extends object>(): (x: T) => number {
  const ids = new WeakMap<T, number>();
  let next = 1;
  return (x) => {
    let id = ids.get(x);
    if (id === undefined) ids.set(x, (id = next++));
    return id;
  };
}

const storageId = idsOf<Storage>();

/** Pending nodes by the buffers they read: a write into one of those buffers realises them first. */
const readers = new Map<GPUBuffer, Set<LazyNode>>();

/** A read of `st` (not yet retained: a node's constructor retains what it keeps). */
export function leafOf(st: Storage, dtype: DType, offset: number, strides: readonly number[]): Leaf {
  return { storage: st, dtype, offset, strides, key: `${storageId(st)}|${dtype}|${offset}|${strides.join(',')}` };
}

function keepLeaf(leaf: Leaf, reader: LazyNode): void {
  leaf.storage.retain();
  let set = readers.get(leaf.storage.buffer);
  if (!set) readers.set(leaf.storage.buffer, (set = new Set()));
  set.add(reader);
}

function dropLeaf(leaf: Leaf, reader: LazyNode): void {
  const set = readers.get(leaf.storage.buffer);
  if (set) {
    set.delete(reader);
    if (set.size === 0) readers.delete(leaf.storage.buffer);
  }
  leaf.storage.release();
}

// The engine calls this before any command writes a buffer: nodes reading it are computed first,
// from the contents they were made from.
setWriteHook((buf) => {
  const set = readers.get(buf);
  if (!set) return false;
  for (const node of [...set]) node.realise();
  return true;
});

/**
 * A pending reduction: its one input, of shape `inShape` viewed as [A, R, B], reduced over R by
 * `kind`. Its node's shape is the result's (A x B elements, any shape of that size).
 */
export interface ReduceSpec {
  kind: ReduceKind;
  A: number;
  R: number;
  B: number;
  inShape: Shape;
}

/**
 * A pending matrix product C = op(A) op(B): its two inputs are A's and B's buffers, the layout
 * says how the kernel reads them. Its node's shape is C's.
 */
export interface MatmulSpec {
  layout: MatmulLayout;
}

/**
 * An op not computed yet: a node of a pending graph. Tensors hold it as their PendingValue;
 * consumers (later pending ops) hold it as an input. Reference counted: each tensor handle and
 * each consumer's use is one reference. Most nodes are elementwise; a node with a `reduce` spec
 * is a reduction, computed by its own kernel (with its pending input as the kernel's prologue)
 * when a consumer is computed or its value is needed, and never if its value is dropped unread.
 * A node with a `matmul` spec is a matrix product, computed by its own kernel, or by the kernel of
 * the one elementwise graph that reads it, as that graph's epilogue (see `epilogueSource`).
 */
export class LazyNode implements PendingValue {
  private refs = 1;
  /** The computed value, once realised (this node keeps one reference to it). */
  private result: Storage | null = null;
  /** Inputs until realised; then empty (the node reads nothing any more). */
  inputs: Input[];
  /** Unrealised nodes that read this one (told when it is realised, to read its storage instead). */
  private consumers = new Set<LazyNode>();
  /** The engine whose buffers it reads (current when it was made). */
  readonly owner: Engine = engine();

  /** Takes over one reference to each input node; retains each leaf's storage. */
  constructor(readonly op: OpCode, readonly scalars: readonly number[], readonly shape: Shape, readonly dtype: DType, inputs: Input[],
    readonly reduce: ReduceSpec | null = null, readonly matmul: MatmulSpec | null = null) {
    this.inputs = inputs;
    for (const x of inputs) {
      if (x instanceof LazyNode) x.consumers.add(this);
      else if ('storage' in x) keepLeaf(x, this);
    }
  }

  /** An elementwise op (fusible into its consumers), not a reduction or a matmul (computed by kernels of their own). */
  get elementwise(): boolean {
    return this.reduce === null && this.matmul === null;
  }

  /** True once computed. */
  get realised(): boolean {
    return this.result !== null;
  }

  /** One more reference (a tensor handle made by ref(), or a consumer's use). */
  retain(): void {
    this.refs++;
  }

  /** Drops a reference; the last one frees the result, or the inputs if it was never computed. */
  release(): void {
    if (--this.refs > 0) return;
    if (this.result) {
      this.result.release();
      this.result = null;
    } else this.dropInputs();
  }

  private dropInputs(): void {
    for (const x of this.inputs) {
      if (x instanceof LazyNode) {
        x.consumers.delete(this);
        x.release();
      } else if ('storage' in x) dropLeaf(x, this);
    }
    this.inputs = [];
  }

  /** Computes this node (and the unrealised nodes it reads) with one kernel, once. */
  realise(): Storage {
    if (this.result) return this.result;
    if (this.owner !== currentEngine() || !this.owner.usable) {
      throw new Error(`hypertape: tensor (a pending ${this.op.name}, ${this.dtype}${shapeStr(this.shape)}) cannot be used: ` +
        `${this.owner.lostMessage ?? 'its GPU device was replaced by a later init()'}. ` +
        'Tensors live on the device they were made on; make it again after init() (e.g. from values read with data() before). ' +
        'dispose() on it is harmless.');
    }
    if (this.reduce) return this.finish(this.reduceNow(this.reduce));
    if (this.matmul) return this.finish(this.matmulNow(this.matmul)!);
    const e = engine();
    const src = this.epilogueSource();
    let plan = planOf(this, src?.m ?? null);
    // The matmul's own bindings (C, A, B, and the epilogue's result beside a kept C) and the
    // graph's leaves within the storage-buffer limit, the parameters within their block.
    const bindings = src ? plan.leaves.length + (src.exclusive ? 3 : 4) : 0;
    const epi = src && bindings <= e.device.limits.maxStorageBuffersPerShaderStage ? matmulEpilogue(plan, this.shape, !src.exclusive) : null;
    if (src && !epi) {
      // It would not fit one kernel: C is computed first and read as a buffer.
      src.m.realise();
      plan = planOf(this);
    }
    const bytes = sizeOf(this.shape) * 4;
    const out = new Storage(e.acquireBuffer(bytes), bytes);
    try {
      if (src && epi) {
        const c = src.m.matmulNow(src.m.matmul!, { fn: epi, out, exclusive: src.exclusive });
        if (c) src.m.finish(c);
      } else launchElementwise({
        shape: this.shape,
        out: { storage: out, dtype: this.dtype, offset: 0, strides: contiguousStrides(this.shape) },
        leaves: plan.leaves,
        constants: plan.constants,
        nodes: plan.nodes,
        scalars: plan.scalars,
      });
    } catch (err) {
      out.release();
      throw err;
    }
    return this.finish(out);
  }

  /**
   * The pending matmul this elementwise node's kernel computes, with the node's graph as the
   * matmul's epilogue (one kernel for both), or null: a matmul the graph reads (an f32 result
   * of the same number of elements). `exclusive` when nothing else can need C afterwards: no
   * reference to it but the graph's (no tensor handle, no other consumer), through nodes that are
   * referenced only within the graph. Then C is not written out at all; otherwise the kernel
   * stores C as well, and C is computed (once) by the same dispatch.
   */
  private epilogueSource(): { m: LazyNode; exclusive: boolean } | null {
    if (this.dtype !== 'f32') return null;
    const uses = new Map<LazyNode, number>();
    const walk = (n: LazyNode): void => {
      for (const x of n.inputs) {
        if (!(x instanceof LazyNode) || x.realised) continue;
        const k = uses.get(x) ?? 0;
        uses.set(x, k + 1);
        if (k === 0 && x.elementwise) walk(x);
      }
    };
    walk(this);
    const reach = new Map<LazyNode, boolean>();
    const reaches = (n: LazyNode, m: LazyNode): boolean => {
      if (n === m) return true;
      if (!n.elementwise) return false;
      let r = reach.get(n);
      if (r === undefined) reach.set(n, (r = n.inputs.some((x) => x instanceof LazyNode && !x.realised && reaches(x, m))));
      return r;
    };
    let shared: LazyNode | null = null;
    for (const m of uses.keys()) {
      if (!m.matmul || sizeOf(m.shape) !== sizeOf(this.shape)) continue;
      reach.clear();
      if ([...uses].every(([n, k]) => !reaches(n, m) || n.refs === k)) return { m, exclusive: true };
      shared ??= m;
    }
    return shared && { m: shared, exclusive: false };
  }

  /**
   * The matmul's kernel: C into a new storage, returned. With an epilogue, its result goes to
   * `epilogue.out`; C is then stored too (and returned) unless the epilogue is exclusive (null
   * returned: this node is never computed itself).
   */
  private matmulNow(spec: MatmulSpec, epilogue?: { fn: Epilogue; out: Storage; exclusive: boolean }): Storage | null {
    const [a, b] = this.inputs as Leaf[];
    const bytes = sizeOf(this.shape) * 4;
    const c = epilogue?.exclusive ? null : new Storage(engine().acquireBuffer(bytes), bytes);
    try {
      const epi = epilogue && { fn: epilogue.fn, out: c ? epilogue.out.buffer : undefined };
      matmulBuffers((c ?? epilogue!.out).buffer, a!.storage, b!.storage, spec.layout, epi);
    } catch (err) {
      c?.release();
      throw err;
    }
    return c;
  }

  /** The reduction's kernel: its input computed as it is read when pending, else read from its buffer. */
  private reduceNow(r: ReduceSpec): Storage {
    let x = this.inputs[0]!;
    // A pending reduction or matmul as the input is computed first (then x is a leaf).
    if (x instanceof LazyNode && !x.elementwise) x.realise();
    x = this.inputs[0]!;
    let input: Tensor;
    let prologue: Plan | undefined;
    if (x instanceof LazyNode) {
      x.retain();
      input = new Tensor(x, r.inShape, 'f32');
      prologue = planOf(x);
    } else {
      const leaf = x as Leaf;
      input = new Tensor(leaf.storage.retain(), r.inShape, 'f32');
    }
    try {
      const flat = reduceARB(input, r.A, r.R, r.B, r.kind, prologue);
      const st = flat.storage.retain();
      flat.dispose();
      return st;
    } finally {
      input.dispose();
    }
  }

  /** Stores the computed value: consumers read it from now on, and this node reads nothing. */
  private finish(out: Storage): Storage {
    if (this.result) throw new Error(`hypertape internal: a pending ${this.op.name} computed twice`);
    this.result = out;
    // Consumers now read the stored value, and this node reads nothing.
    for (const c of [...this.consumers]) c.replaceInput(this, out);
    this.dropInputs();
    return out;
  }

  /** Replaces every use of `node` (just realised into `st`) by a read of `st`. */
  private replaceInput(node: LazyNode, st: Storage): void {
    this.inputs = this.inputs.map((x) => {
      if (x !== node) return x;
      // The leaf's reference first: this use may be the node's last reference, and its release
      // then releases the stored value.
      const leaf = leafOf(st, node.dtype, 0, contiguousStrides(node.shape));
      keepLeaf(leaf, this);
      node.release();
      return leaf;
    });
    node.consumers.delete(this);
  }
}

/** What one kernel computes for a root node: its unrealised nodes in order, the leaves and constants they read. */
export interface Plan {
  nodes: PlanNode[];
  leaves: Leaf[];
  constants: number[];
  scalars: (readonly number[])[];
}

/** The plan of `root`'s kernel; `acc` (a pending matmul it reads) becomes the `{ acc }` argument of an epilogue. */
function planOf(root: LazyNode, acc: LazyNode | null = null): Plan {
  const plan: Plan = { nodes: [], leaves: [], constants: [], scalars: [] };
  const leafIndex = new Map<string, number>();
  const constIndex = new Map<number, number>();
  const nodeIndex = new Map<LazyNode, number>();
  const visit = (node: LazyNode): number => {
    const seen = nodeIndex.get(node);
    if (seen !== undefined) return seen;
    // Pending reductions and matmuls it reads (but acc) are computed first (each by its own
    // kernel), then read as buffers.
    for (const x of [...node.inputs]) if (x instanceof LazyNode && !x.elementwise && x !== acc) x.realise();
    const args: Arg[] = node.inputs.map((x): Arg => {
      if (x === acc) return { acc: true };
      if (x instanceof LazyNode) return { node: visit(x) };
      if ('storage' in x) {
        let k = leafIndex.get(x.key);
        if (k === undefined) {
          leafIndex.set(x.key, (k = plan.leaves.length));
          plan.leaves.push(x);
        }
        return { leaf: k };
      }
      // Constants by value (Object.is keeps -0 and NaN apart from 0 and from each other's bits).
      let k = constIndex.get(x.value);
      if (k === undefined || !Object.is(plan.constants[k], x.value)) {
        k = plan.constants.length;
        constIndex.set(x.value, k);
        plan.constants.push(x.value);
      }
      return { constant: k };
    });
    let scalarSlot = -1;
    if (/\bp\.scalars\b/.test(node.op.expr)) {
      scalarSlot = plan.scalars.length;
      plan.scalars.push(node.scalars);
    }
    const k = plan.nodes.length;
    plan.nodes.push({ op: node.op, args, dtype: node.dtype, scalarSlot });
    nodeIndex.set(node, k);
    return k;
  };
  visit(root);
  return plan;
}

/**
 * Whether one kernel can compute a new node of `shape` over `inputs` (with `ownScalars` 1 when the
 * new node has scalars): nodes, bindings and parameter bytes within their limits.
 */
function fits(shape: Shape, inputs: Input[], ownScalars: number): boolean {
  const nodes = new Set<LazyNode>();
  const leaves = new Set<string>();
  const strided = new Set<string>();
  const constants = new Set<number>();
  let scalarNodes = ownScalars;
  const walk = (x: Input): void => {
    if (x instanceof LazyNode && !x.elementwise) {
      // Computed before the kernel, then bound as a buffer (read contiguously).
      leaves.add(`own|${nodeId(x)}`);
    } else if (x instanceof LazyNode) {
      if (nodes.has(x)) return;
      nodes.add(x);
      if (/\bp\.scalars\b/.test(x.op.expr)) scalarNodes++;
      x.inputs.forEach(walk);
    } else if ('storage' in x) {
      leaves.add(x.key);
      if (modeOf(shape, x.strides) === 'strided') strided.add(x.key);
    } else constants.add(x.value);
  };
  inputs.forEach(walk);
  const maxLeaves = engine().device.limits.maxStorageBuffersPerShaderStage - 1; // one binding is the output
  return nodes.size + 1 <= MAX_NODES && leaves.size <= maxLeaves &&
    paramBytesBound(leaves.size + 1, strided.size, constants.size, scalarNodes) <= PARAM_BYTES;
}

/**
 * The elementwise graph that would compute `x`, if x is pending (and fusion is on): the nodes,
 * leaves, constants and scalars of one kernel, for a reduction that computes x's values as it
 * reads them instead of x being written out first. x stays pending; the plan is valid until the
 * next op (dispatch it at once). Null when x has storage or cannot be fused here.
 */
export function pendingPlan(x: Tensor): Plan | null {
  const node = pendingNode(x);
  return node && node.elementwise ? planOf(node) : null;
}

/**
 * x ([A, R, B] viewed, any shape of that size) reduced over R by `kind`, pending, as a tensor of
 * `shape` (A x B elements): computed when its value is needed or a consumer is computed, with a
 * pending x as the kernel's prologue; never, if it is dropped unread. The caller checked x.
 */
export function lazyReduce(x: Tensor, A: number, R: number, B: number, kind: ReduceKind, shape: Shape): Tensor {
  const pending = pendingNode(x);
  let input: Input;
  if (pending) {
    input = pending;
    pending.retain();
  } else input = leafOf(x.storage, x.dtype, 0, contiguousStrides(x.shape));
  checkAllocatable(shape, 'f32');
  const spec: ReduceSpec = { kind, A, R, B, inShape: [...x.shape] };
  const out = new Tensor(new LazyNode({ name: kind, expr: '' }, [], shape, 'f32', [input], spec), shape, 'f32');
  if (!fusionOn) out.realise();
  return out;
}

const nodeId = idsOf<LazyNode>();

/**
 * C = op(A) op(B) (`l` says how; C of `shape`, K >= 1), pending: computed when its value is
 * needed or a consumer is computed, as the epilogue's host when one elementwise graph is its only
 * reader, and never if it is dropped unread. Pending A or B are computed first. The caller
 * checked shapes and dtypes.
 */
export function lazyMatmul(a: Tensor, b: Tensor, l: MatmulLayout, shape: Shape): Tensor {
  checkAllocatable(shape, 'f32');
  checkMatmulGrid(l);
  const inputs = [a, b].map((t) => leafOf(t.storage, t.dtype, 0, contiguousStrides(t.shape)));
  const out = new Tensor(new LazyNode({ name: 'matmul', expr: '' }, [], shape, 'f32', inputs, null, { layout: l }), shape, 'f32');
  if (!fusionOn) out.realise();
  return out;
}

/**
 * Part of a tensor's buffer read as a tensor of its own: the `shape` (contiguous) elements that
 * start at element `offset` (computed first if the tensor is pending).
 */
export interface TensorPart {
  part: Tensor;
  offset: number;
  shape: Shape;
}

/**
 * An input of a lazy op: a tensor (pending or realised), part of one, or a number (read from the
 * kernel's parameters).
 */
export type LazyOperand = Tensor | TensorPart | number;

/**
 * An elementwise op, lazily: a pending tensor of `shape` and `dtype` whose value is `op` applied
 * to `operands` (tensors broadcast to `shape`, or numbers) with `scalars` as p.scalars. The
 * caller has checked shapes and dtypes.
 */
export function lazyElementwise(op: OpCode, operands: readonly LazyOperand[], shape: Shape, dtype: DType, scalars: readonly number[] = []): Tensor {
  checkAllocatable(shape, dtype);
  // Inputs are checked (disposed, another device) before anything is retained.
  for (const x of operands) {
    if (x instanceof Tensor && !(x.pending instanceof LazyNode && !x.pending.realised)) void x.storage;
    else if (typeof x === 'object' && 'part' in x) void x.part.storage;
  }
  const pendingHere = (x: LazyOperand): x is Tensor => x instanceof Tensor && pendingNode(x) !== null;
  const sameShape = (x: Tensor) => x.rank === shape.length && x.shape.every((d, i) => d === shape[i]);
  // A pending input of another shape (a broadcast) is recomputed per element it is read at: a
  // copy of its graph reading its leaves through broadcast strides (./remap.ts).
  const copies = new Map<Tensor, LazyNode | null>();
  const copyOf = (x: Tensor): LazyNode | null => {
    if (!copies.has(x)) copies.set(x, broadcastCopy(x.pending as LazyNode, shape));
    return copies.get(x)!;
  };
  const fusable = (x: LazyOperand): boolean => pendingHere(x) && (sameShape(x) || copyOf(x) !== null);
  // Pending inputs that cannot be fused, or would make the kernel too large, are realised first.
  const pendingInputs = operands.filter(fusable) as Tensor[];
  const inputs = (): Input[] => operands.map((x) =>
    typeof x === 'number' ? { value: x }
      : 'part' in x ? leafOf(x.part.storage, x.part.dtype, x.offset, broadcastStrides(x.shape, shape))
        : fusable(x) ? (sameShape(x) ? (x.pending as LazyNode) : copyOf(x)!) : leafOf(x.storage, x.dtype, 0, broadcastStrides(x.shape, shape)));
  const ownScalars = /\bp\.scalars\b/.test(op.expr) ? 1 : 0;
  while (pendingInputs.length > 0 && !fits(shape, inputs(), ownScalars)) {
    // Realise the largest pending input (the most nodes) and try again.
    pendingInputs.sort((a, b) => graphSize(b.pending as LazyNode) - graphSize(a.pending as LazyNode));
    pendingInputs.shift()!.realise();
  }
  const ins = inputs();
  // Each use takes a reference: the input's node gets one more; a copy hands over the one it was made with.
  const made = new Set(copies.values());
  const used = new Set<LazyNode>();
  for (const x of ins) {
    if (!(x instanceof LazyNode)) continue;
    if (made.has(x) && !used.has(x)) used.add(x);
    else x.retain();
  }
  for (const c of copies.values()) if (c && !used.has(c)) c.release();
  const out = new Tensor(new LazyNode(op, scalars, shape, dtype, ins), shape, dtype);
  if (!fusionOn) out.realise();
  return out;
}

function graphSize(root: LazyNode): number {
  const seen = new Set<LazyNode>();
  const walk = (n: LazyNode): void => {
    if (seen.has(n)) return;
    seen.add(n);
    if (n.elementwise) for (const x of n.inputs) if (x instanceof LazyNode) walk(x);
  };
  walk(root);
  return seen.size;
}
