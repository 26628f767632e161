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

/**
 * erf in float64 by its series of positive terms erf(x) = (2/sqrt(pi)) e^(-x^2) sum_n x (2x^2)^n
 * / (1 3 5 ... (2n + 1)), which has no cancellation; +-1 beyond |x| = 6 (erfc(6) ~ 2e-17).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) > 6) return Math.sign(x);
  let term = x;
  let total = 0;
  for (let n = 1; n < 1000 && Math.abs(term) > 1e-17 * Math.abs(total); n++) {
    total += term;
    term *= (2 * x * x) / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * total;
}

const sigmoid = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));

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
  sigmoid,
  relu: (v) => (Number.isNaN(v) ? NaN : Math.max(v, 0)),
  softplus,
  logSigmoid: (v) => -softplus(-v),
  tan: Math.tan,
  atan: Math.atan,
  log1p: Math.log1p,
  expm1: Math.expm1,
  erf,
  gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  geluTanh: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  silu: (v) => v * sigmoid(v),
  leakyRelu: (v) => (v < 0 ? 0.01 * v : v),
  elu: (v) => (v < 0 ? Math.expm1(v) : v),
};

export const BINARY: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: Math.max, // NaN if either is NaN, like the kernels
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

export type ReduceKind = 'sum' | 'mean' | 'max' | 'logsumexp' | 'argmax' | 'prod' | 'min' | 'argmin' | 'var';

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
  const low = new Float64Array(n).fill(Infinity);
  const argLow = new Float64Array(n);
  const seen = new Float64Array(n);
  const nanAt = new Float64Array(n).fill(-1);
  for (let f = 0; f < x.data.length; f++) {
    const o = slot[f]!;
    const v = x.data[f]!;
    if (Number.isNaN(v) && nanAt[o]! < 0) nanAt[o] = seen[o]!;
    if (v < low[o]!) {
      low[o] = v;
      argLow[o] = seen[o]!;
    }
    seen[o]!++;
  }
  const acc = new Float64Array(n);
  if (kind === 'sum' || kind === 'mean' || kind === 'var') for (let f = 0; f < x.data.length; f++) acc[slot[f]!]! += x.data[f]!;
  const prodAcc = new Float64Array(n).fill(1);
  if (kind === 'prod') for (let f = 0; f < x.data.length; f++) prodAcc[slot[f]!]! *= x.data[f]!;
  const sq = new Float64Array(n);
  if (kind === 'var') for (let f = 0; f < x.data.length; f++) sq[slot[f]!]! += (x.data[f]! - acc[slot[f]!]! / count[slot[f]!]!) ** 2;
  if (kind === 'logsumexp') for (let f = 0; f < x.data.length; f++) acc[slot[f]!]! += Math.exp(x.data[f]! - best[slot[f]!]!);
  const data = Float64Array.from({ length: n }, (_, o) => {
    switch (kind) {
      case 'sum':
        return acc[o]!;
      case 'mean':
        return acc[o]! / count[o]!;
      case 'max':
        return nanAt[o]! >= 0 ? NaN : best[o]!;
      case 'argmax':
        return nanAt[o]! >= 0 ? nanAt[o]! : arg[o]!;
      case 'min':
        return nanAt[o]! >= 0 ? NaN : low[o]!;
      case 'argmin':
        return nanAt[o]! >= 0 ? nanAt[o]! : argLow[o]!;
      case 'prod':
        return prodAcc[o]!;
      case 'var': // population variance (correction 0)
        return sq[o]! / count[o]!;
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

// ---- ops of issue 15 ----------------------------------------------------------------------

/** clamp(x, lo, hi) elementwise; NaN stays NaN. */
export function clamp(x: Ref, lo: number, hi: number): Ref {
  return { shape: [...x.shape], data: x.data.map((v) => (Number.isNaN(v) ? NaN : Math.min(Math.max(v, lo), hi))) };
}

/** Inclusive cumulative sum along `axis` (backwards with reverse). */
export function cumsum(x: Ref, axis: number, reverse = false): Ref {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const data = new Float64Array(x.data.length);
  const st = strides(x.shape);
  const R = x.shape[ax]!;
  forEachIndex(x.shape, (f, idx) => {
    if (idx[ax] !== 0) return;
    let acc = 0;
    for (let k = 0; k < R; k++) {
      const r = reverse ? R - 1 - k : k;
      const i = f + r * st[ax]!;
      acc += x.data[i]!;
      data[i] = acc;
    }
  });
  return { shape: [...x.shape], data };
}

/** x reversed along `axes`. */
export function flip(x: Ref, axes: readonly number[]): Ref {
  const ax = axes.map((a) => (a < 0 ? a + x.shape.length : a));
  const data = new Float64Array(x.data.length);
  forEachIndex(x.shape, (f, idx) => (data[f] = at(x, idx.map((v, d) => (ax.includes(d) ? x.shape[d]! - 1 - v : v)))));
  return { shape: [...x.shape], data };
}

/** NumPy's tile. */
export function tile(x: Ref, reps: readonly number[]): Ref {
  const rank = Math.max(x.shape.length, reps.length);
  const xs = [...new Array<number>(rank - x.shape.length).fill(1), ...x.shape];
  const r = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  const shape = xs.map((d, i) => d * r[i]!);
  const src = reshape(x, xs);
  const data = new Float64Array(size(shape));
  forEachIndex(shape, (f, idx) => (data[f] = at(src, idx.map((v, d) => v % xs[d]!))));
  return { shape, data };
}

/** The adjoint of gather: slices of g along `axis` added at their indices into `depth` slots. */
export function scatterAdd(g: Ref, indices: readonly number[], axis: number, depth: number): Ref {
  const shape = [...g.shape];
  shape[axis] = depth;
  const out = new Float64Array(size(shape));
  const st = strides(shape);
  forEachIndex(g.shape, (f, idx) => {
    const k = indices[idx[axis]!]!;
    let o = 0;
    idx.forEach((v, d) => (o += (d === axis ? k : v) * st[d]!));
    out[o]! += g.data[f]!;
  });
  return { shape, data: out };
}
