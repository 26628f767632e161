// A float64 reference of every op, in plain TypeScript: the kernels are held to it. Written for
// clarity, not speed: every op walks its output by multi-index. Arrays are row-major and
// contiguous, like hypertape's tensors.

export interface Ref {
  shape: number[];
  data: Float64Array;
}

export function ref(data: ArrayLike<number>, shape: readonly number[]): Ref {
  if (size(shape) !== data.length) throw new Error(`reference: ${data.length} values for shape [${shape.join(', ')}]`);
  return { shape: [...shape], data: Float64Array.from(data) };
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Calls fn(flatIndex, multiIndex) for every element of `shape` in row-major order. */
export function forEachIndex(shape: readonly number[], fn: (flat: number, idx: number[]) => void): void {
  const n = size(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < n; f++) {
    fn(f, idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

const strideCache = new WeakMap<Ref, number[]>();

function at(x: Ref, idx: readonly number[]): number {
  let s = strideCache.get(x);
  if (!s) strideCache.set(x, (s = strides(x.shape)));
  let o = 0;
  for (let d = 0; d < idx.length; d++) o += idx[d]! * s[d]!;
  return x.data[o]!;
}

// ---- elementwise --------------------------------------------------------------------------

const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

export const UNARY: Record<string, (v: number) => number> = {
  neg: (v) => -v,
  abs: Math.abs,
  sign: Math.sign,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  square: (v) => v * v,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))),
  relu: (v) => Math.max(v, 0),
  softplus,
  logSigmoid: (v) => -softplus(-v),
};

export const BINARY: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: Math.max,
  minimum: Math.min,
  less: (a, b) => +(a < b),
  lessEqual: (a, b) => +(a <= b),
  greater: (a, b) => +(a > b),
  greaterEqual: (a, b) => +(a >= b),
  equal: (a, b) => +(a === b),
  notEqual: (a, b) => +(a !== b),
};

export function unary(name: string, x: Ref): Ref {
  const f = UNARY[name];
  if (!f) throw new Error(`reference: no unary op ${name}`);
  return { shape: [...x.shape], data: x.data.map(f) };
}

/** NumPy broadcasting of shapes; throws like the engine would when they do not fit. */
export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) throw new Error('reference: shapes do not broadcast');
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

/** x read at an index of the broadcast shape `outShape`. */
function atBroadcast(x: Ref, idx: readonly number[], outRank: number): number {
  const lead = outRank - x.shape.length;
  const own = idx.slice(lead).map((v, d) => (x.shape[d] === 1 ? 0 : v));
  return at(x, own);
}

export function broadcastTo(x: Ref, shape: readonly number[]): Ref {
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (f, idx) => (data[f] = atBroadcast(x, idx, shape.length)));
  return { shape: [...shape], data };
}

export function binary(name: string, a: Ref, b: Ref): Ref {
  const f = BINARY[name];
  if (!f) throw new Error(`reference: no binary op ${name}`);
  const shape = broadcastShape(a.shape, b.shape);
  if (a.data.length === size(shape) && b.data.length === size(shape)) {
    return { shape, data: a.data.map((v, i) => f(v, b.data[i]!)) };
  }
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (i, idx) => (data[i] = f(atBroadcast(a, idx, shape.length), atBroadcast(b, idx, shape.length))));
  return { shape, data };
}

export function where(c: Ref, a: Ref, b: Ref): Ref {
  const shape = broadcastShape(c.shape, a.shape, b.shape);
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (i, idx) => {
    data[i] = atBroadcast(c, idx, shape.length) !== 0 ? atBroadcast(a, idx, shape.length) : atBroadcast(b, idx, shape.length);
  });
  return { shape, data };
}

// ---- reductions ---------------------------------------------------------------------------

export type ReduceKind = 'sum' | 'mean' | 'max' | 'logsumexp' | 'argmax';

function normAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
}

/** Reduces `axes` (all by default) with `kind`; argmax takes exactly one axis. */
export function reduce(kind: ReduceKind, x: Ref, axes?: number | readonly number[], keepdims = false): Ref {
  const ax = normAxes(axes, x.shape.length);
  const keptShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const ks = strides(keptShape).map((s, d) => (ax.includes(d) ? 0 : s));
  // Output slot of every input element, in input order (so "first" means lowest index).
  const slot = new Int32Array(x.data.length);
  forEachIndex(x.shape, (f, idx) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += idx[d]! * ks[d]!;
    slot[f] = o;
  });
  const n = size(keptShape);
  const count = new Float64Array(n);
  const best = new Float64Array(n).fill(-Infinity);
  const arg = new Float64Array(n);
  for (let f = 0; f < x.data.length; f++) {
    const o = slot[f]!;
    if (x.data[f]! > best[o]!) {
      best[o] = x.data[f]!;
      arg[o] = count[o]!;
    }
    count[o]!++;
  }
  const acc = new Float64Array(n);
  if (kind === 'sum' || kind === 'mean') for (let f = 0; f < x.data.length; f++) acc[slot[f]!]! += x.data[f]!;
  if (kind === 'logsumexp') for (let f = 0; f < x.data.length; f++) acc[slot[f]!]! += Math.exp(x.data[f]! - best[slot[f]!]!);
  const data = Float64Array.from({ length: n }, (_, o) => {
    switch (kind) {
      case 'sum':
        return acc[o]!;
      case 'mean':
        return acc[o]! / count[o]!;
      case 'max':
        return best[o]!;
      case 'argmax':
        return arg[o]!;
      case 'logsumexp':
        return best[o]! + Math.log(acc[o]!);
    }
  });
  const shape = keepdims ? keptShape : x.shape.filter((_, i) => !ax.includes(i));
  return { shape, data };
}

export function logSoftmax(x: Ref, axis = -1): Ref {
  const lse = reduce('logsumexp', x, axis, true);
  return binary('sub', x, lse);
}

export function softmax(x: Ref, axis = -1): Ref {
  const ls = logSoftmax(x, axis);
  return { shape: ls.shape, data: ls.data.map(Math.exp) };
}

// ---- matmul -------------------------------------------------------------------------------

/** op(A) @ op(B) over the last two axes, leading axes broadcast. */
export function matmul(a: Ref, b: Ref, transA = false, transB = false): Ref {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [ar, ac] = [a.shape[ra - 2]!, a.shape[ra - 1]!];
  const [br, bc] = [b.shape[rb - 2]!, b.shape[rb - 1]!];
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const N = transB ? br : bc;
  if ((transB ? bc : br) !== K) throw new Error('reference: matmul inner dims differ');
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const shape = [...batch, M, N];
  const data = new Float64Array(size(shape));
  const aStr = strides(a.shape);
  const bStr = strides(b.shape);
  forEachIndex(shape, (f, idx) => {
    const bi = idx.slice(0, -2);
    const i = idx[idx.length - 2]!;
    const j = idx[idx.length - 1]!;
    let aBase = 0;
    a.shape.slice(0, -2).forEach((d, k) => (aBase += (d === 1 ? 0 : bi[bi.length - (ra - 2) + k]!) * aStr[k]!));
    let bBase = 0;
    b.shape.slice(0, -2).forEach((d, k) => (bBase += (d === 1 ? 0 : bi[bi.length - (rb - 2) + k]!) * bStr[k]!));
    let acc = 0;
    for (let k = 0; k < K; k++) {
      const av = a.data[aBase + (transA ? k * ac + i : i * ac + k)]!;
      const bv = b.data[bBase + (transB ? j * bc + k : k * bc + j)]!;
      acc += av * bv;
    }
    data[f] = acc;
  });
  return { shape, data };
}

// ---- shape ops ----------------------------------------------------------------------------

export function reshape(x: Ref, shape: readonly number[]): Ref {
  if (size(shape) !== x.data.length) throw new Error('reference: reshape changes the size');
  return { shape: [...shape], data: x.data.slice() };
}

export function permute(x: Ref, perm: readonly number[]): Ref {
  const shape = perm.map((p) => x.shape[p]!);
  const data = new Float64Array(x.data.length);
  forEachIndex(shape, (f, idx) => {
    const src = new Array<number>(perm.length);
    perm.forEach((p, i) => (src[p] = idx[i]!));
    data[f] = at(x, src);
  });
  return { shape, data };
}

export function slice(x: Ref, begin: readonly number[], sz: readonly number[]): Ref {
  const shape = sz.map((s, i) => (s === -1 ? x.shape[i]! - begin[i]! : s));
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (f, idx) => (data[f] = at(x, idx.map((v, d) => v + begin[d]!))));
  return { shape, data };
}

export function pad(x: Ref, before: readonly number[], after: readonly number[]): Ref {
  const shape = x.shape.map((d, i) => d + before[i]! + after[i]!);
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (f, idx) => {
    const src = idx.map((v, d) => v - before[d]!);
    data[f] = src.every((v, d) => v >= 0 && v < x.shape[d]!) ? at(x, src) : 0;
  });
  return { shape, data };
}

export function concat(xs: readonly Ref[], axis: number): Ref {
  const rank = xs[0]!.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  const shape = [...xs[0]!.shape];
  shape[ax] = xs.reduce((acc, x) => acc + x.shape[ax]!, 0);
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (f, idx) => {
    let pos = idx[ax]!;
    for (const x of xs) {
      if (pos < x.shape[ax]!) {
        const src = [...idx];
        src[ax] = pos;
        data[f] = at(x, src);
        return;
      }
      pos -= x.shape[ax]!;
    }
  });
  return { shape, data };
}

export function gather(x: Ref, indices: readonly number[], axis: number): Ref {
  const shape = [...x.shape];
  shape[axis] = indices.length;
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (f, idx) => {
    const src = [...idx];
    src[axis] = indices[idx[axis]!]!;
    data[f] = at(x, src);
  });
  return { shape, data };
}

export function oneHot(labels: readonly number[], labelShape: readonly number[], depth: number): Ref {
  const data = new Float64Array(labels.length * depth);
  labels.forEach((l, i) => {
    if (l >= 0 && l < depth) data[i * depth + l] = 1;
  });
  return { shape: [...labelShape, depth], data };
}
