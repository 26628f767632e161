// Shape ops: reshape (no copy), transpose/permute, broadcastTo, slice, pad, concat, gather,
// one-hot. Each is a strided copy through the elementwise kernel (or gather/one-hot kernels),
// with its VJP (the adjoint copy) and JVP (the same op on the tangent, axes shifted by nb).
import { Tensor, shapeStr, sizeOf, type Shape } from '../tensor.js';
import { record, type Primitive } from './core.js';
import { elementwise } from './kernels/elementwise.js';
import { lazyElementwise } from './fusion/graph.js';
import { pendingReshape } from './fusion/remap.js';
import { gatherLaunch } from './kernels/gather.js';
import { oneHotLaunch } from './kernels/one-hot.js';
import { scatterAddLaunch } from './kernels/scatter.js';
import { contiguousStrides } from './kernels/template.js';
import { sum } from './reduce.js';
import { zeros } from './create.js';

export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new Error(`hypertape: ${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** Leading tangent dims as a shape prefix. */
function batchOf(t: Tensor, nb: number): number[] {
  return t.shape.slice(0, nb) as number[];
}

// ---- broadcasting helpers ------------------------------------------------------------------

/** The shape that `shapes` broadcast to under NumPy's rules; throws naming `op` and the shapes if they do not. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) {
          throw new Error(`hypertape: ${op}: shapes ${shapes.map(shapeStr).join(' and ')} cannot be broadcast together (dim ${i} of the result: ${d} vs ${v})`);
        }
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

/** Strides that read a tensor of `shape` (with strides `own`, contiguous by default) over `outShape` (0 where broadcast). */
export function broadcastStrides(shape: Shape, outShape: Shape, own: readonly number[] = contiguousStrides(shape)): number[] {
  const lead = outShape.length - shape.length;
  return outShape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : own[i - lead]!));
}

/** Sums g (shaped like a broadcast result) back to `shape`: the adjoint of broadcasting. */
export function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const s = axes.length ? sum(g, axes) : g;
  return reshape(s, shape);
}

/**
 * Reshapes a tangent with nb batch dims so it lines up, by trailing alignment, with tensors of
 * rank `outRank` (inserts 1s after the batch dims).
 */
export function liftTangent(dot: Tensor, nb: number, outRank: number): Tensor {
  const primalRank = dot.rank - nb;
  if (nb === 0 || primalRank === outRank) return dot;
  return reshape(dot, [...batchOf(dot, nb), ...new Array(outRank - primalRank).fill(1), ...dot.shape.slice(nb)]);
}

// ---- reshape --------------------------------------------------------------------------------

const reshapeP: Primitive<{ shape: Shape }> = {
  name: 'reshape',
  saves: { inputs: [], output: false },
  vjp: (g, { shapes }) => [reshape(g, shapes[0]!)],
  jvp: ([dx], { params, nb }) => reshape(dx!, [...batchOf(dx!, nb), ...params.shape]),
};

/** The same data under a new shape; one dim may be -1. No copy. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== infer));
    s[infer] = rest === 0 ? 0 : x.size / rest;
  }
  if (sizeOf(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`hypertape: reshape: cannot view ${x.describe()} (${x.size} elements) as ${shapeStr(shape)}`);
  }
  // A pending x stays pending (its consumers fuse it); otherwise a view of its storage.
  return record(reshapeP, [x], pendingReshape(x, s) ?? x.untracedView(s), { shape: s });
}

// ---- permute --------------------------------------------------------------------------------

const permuteP: Primitive<{ perm: number[] }> = {
  name: 'permute',
  saves: { inputs: [], output: false },
  vjp: (g, { params }) => {
    const inv = new Array<number>(params.perm.length);
    params.perm.forEach((p, i) => (inv[p] = i));
    return [permute(g, inv)];
  },
  jvp: ([dx], { params, nb }) => permute(dx!, [...Array(nb).keys(), ...params.perm.map((p) => p + nb)]),
};

/** Reorders axes: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`hypertape: permute: [${perm.join(', ')}] is not a permutation of the ${x.rank} axes of ${x.describe()}`);
  }
  const own = contiguousStrides(x.shape);
  const shape = perm.map((p) => x.shape[p]!);
  if (perm.every((p, i) => p === i)) return reshape(x, shape);
  const out = elementwise({ shape, expr: 'a', inputs: [{ tensor: x, strides: perm.map((p) => own[p]!) }], outDtype: x.dtype });
  return record(permuteP, [x], out, { perm: [...perm] });
}

/** Swaps the last two axes (matrix transpose); for rank 2 the plain transpose. */
export function transpose(x: Tensor): Tensor {
  if (x.rank < 2) throw new Error(`hypertape: transpose needs rank >= 2, got ${x.describe()}`);
  const perm = [...Array(x.rank).keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1]!, perm[x.rank - 2]!];
  return permute(x, perm);
}

// ---- broadcastTo ----------------------------------------------------------------------------

const broadcastP: Primitive<{ shape: Shape }> = {
  name: 'broadcastTo',
  saves: { inputs: [], output: false },
  vjp: (g, { shapes }) => [unbroadcast(g, shapes[0]!)],
  jvp: ([dx], { params, nb }) => broadcastTo(liftTangent(dx!, nb, params.shape.length), [...batchOf(dx!, nb), ...params.shape]),
};

const broadcastCode = { name: 'broadcastTo', expr: 'a' };

/** `x` repeated along new leading axes and axes of size 1 to `shape` (NumPy's broadcast_to); its VJP sums back. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i])) {
    throw new Error(`hypertape: broadcastTo: ${x.describe()} cannot be broadcast to ${shapeStr(shape)}`);
  }
  if (x.rank === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  // Lazy, like the elementwise ops: its consumer reads x through broadcast strides in the same kernel.
  return record(broadcastP, [x], lazyElementwise(broadcastCode, [x], shape, x.dtype), { shape: [...shape] });
}

// ---- slice and pad --------------------------------------------------------------------------

interface SliceParams {
  begin: number[];
  size: number[];
}

const sliceP: Primitive<SliceParams> = {
  name: 'slice',
  saves: { inputs: [], output: false },
  vjp: (g, { shapes, params }) => {
    const x = shapes[0]!;
    return [pad(g, params.begin, x.map((d, i) => d - params.begin[i]! - params.size[i]!))];
  },
  jvp: ([dx], { params, nb }) => slice(dx!, [...Array(nb).fill(0), ...params.begin], [...batchOf(dx!, nb), ...params.size]),
};

/** x[begin : begin + size] along every axis; size -1 means "to the end". */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new Error(`hypertape: slice: begin [${begin.join(', ')}] and size [${size.join(', ')}] need ${x.rank} entries for ${x.describe()}`);
  }
  const sz = size.map((s, i) => (s === -1 ? x.shape[i]! - begin[i]! : s));
  sz.forEach((s, i) => {
    if (begin[i]! < 0 || s < 0 || begin[i]! + s > x.shape[i]!) {
      throw new Error(`hypertape: slice: [${begin[i]}, ${begin[i]! + s}) is outside axis ${i} of ${x.describe()}`);
    }
  });
  const own = contiguousStrides(x.shape);
  const offset = begin.reduce((acc, b, i) => acc + b * own[i]!, 0);
  const out = elementwise({ shape: sz, expr: 'a', inputs: [{ tensor: x, offset, strides: own }], outDtype: x.dtype });
  return record(sliceP, [x], out, { begin: [...begin], size: sz });
}

interface PadParams {
  before: number[];
  after: number[];
}

const padP: Primitive<PadParams> = {
  name: 'pad',
  saves: { inputs: [], output: false },
  vjp: (g, { shapes, params }) => [slice(g, params.before, shapes[0]! as number[])],
  jvp: ([dx], { params, nb }) => pad(dx!, [...Array(nb).fill(0), ...params.before], [...Array(nb).fill(0), ...params.after]),
};

/** Zero padding: `before[i]` zeros ahead of axis i and `after[i]` behind it. */
export function pad(x: Tensor, before: readonly number[], after: readonly number[]): Tensor {
  if (before.length !== x.rank || after.length !== x.rank || [...before, ...after].some((v) => v < 0 || !Number.isInteger(v))) {
    throw new Error(`hypertape: pad: before/after need ${x.rank} non-negative integers for ${x.describe()}`);
  }
  const shape = x.shape.map((d, i) => d + before[i]! + after[i]!);
  const out = zeros(shape, x.dtype);
  const own = contiguousStrides(shape);
  const offset = before.reduce((acc, b, i) => acc + b * own[i]!, 0);
  elementwise({ shape: x.shape, expr: 'a', inputs: [{ tensor: x }], out: { tensor: out, offset, strides: own } });
  return record(padP, [x], out, { before: [...before], after: [...after] });
}

// ---- concat ---------------------------------------------------------------------------------

const concatP: Primitive<{ axis: number }> = {
  name: 'concat',
  saves: { inputs: [], output: false },
  vjp: (g, { shapes, params, wants }) => {
    let start = 0;
    return shapes.map((s, k) => {
      const begin = s.map((_, i) => (i === params.axis ? start : 0));
      start += s[params.axis]!;
      return wants[k] ? slice(g, begin, s as number[]) : null;
    });
  },
  jvp: (dots, { inputs, params, nb }) => {
    const like = dots.find((d) => d)!;
    const filled = dots.map((d, i) => d ?? zeros([...like.shape.slice(0, nb), ...inputs[i]!.shape]));
    return concat(filled, params.axis + nb);
  },
};

/** Joins tensors along `axis`; all other dims must agree. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('hypertape: concat needs at least one tensor');
  const rank = xs[0]!.rank;
  const ax = normAxis('concat', axis, rank);
  for (const x of xs) {
    if (x.rank !== rank || x.shape.some((d, i) => i !== ax && d !== xs[0]!.shape[i]) || x.dtype !== xs[0]!.dtype) {
      throw new Error(`hypertape: concat along axis ${ax}: ${xs.map((t) => t.describe()).join(', ')} do not match outside that axis`);
    }
  }
  const shape = [...xs[0]!.shape];
  shape[ax] = xs.reduce((acc, x) => acc + x.shape[ax]!, 0);
  const out = zeros(shape, xs[0]!.dtype);
  const own = contiguousStrides(shape);
  let start = 0;
  for (const x of xs) {
    elementwise({ shape: x.shape, expr: 'a', inputs: [{ tensor: x }], out: { tensor: out, offset: start * own[ax]!, strides: own } });
    start += x.shape[ax]!;
  }
  return record(concatP, [...xs], out, { axis: ax });
}

/** Stacks same-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('hypertape: stack needs at least one tensor');
  const ax = normAxis('stack', axis, xs[0]!.rank + 1);
  return concat(xs.map((x) => reshape(x, [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)])), ax);
}

// ---- gather and one-hot ----------------------------------------------------------------------

const gatherP: Primitive<{ axis: number }> = {
  name: 'gather',
  saves: { inputs: [1], output: false },
  vjp: (g, { inputs, shapes, params }) => [scatterAdd(g, inputs[1]!, params.axis, shapes[0]![params.axis]!), null],
  jvp: ([dx], { inputs, params, nb }) => (dx ? gather(dx, inputs[1]!, params.axis + nb) : null),
};

/** Picks entries along `axis` by a 1-D i32 index tensor: out.shape[axis] = indices.size. */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const ax = normAxis('gather', axis, x.rank);
  if (indices.dtype !== 'i32' || indices.rank !== 1) {
    throw new Error(`hypertape: gather needs a 1-D i32 index tensor, got ${indices.describe()}`);
  }
  checkKnownIndices('gather', indices, x.shape[ax]!, `an axis of length ${x.shape[ax]} (axis ${ax} of ${x.describe()})`);
  const A = sizeOf(x.shape.slice(0, ax));
  const B = sizeOf(x.shape.slice(ax + 1));
  const shape = [...x.shape];
  shape[ax] = indices.size;
  const out = gatherLaunch(x, indices, A, x.shape[ax]!, B, shape);
  return record(gatherP, [x, indices], out, { axis: ax });
}

interface ScatterAddParams {
  axis: number;
  depth: number;
}

// scatterAdd is linear in g and its adjoint is gather: VJP gather(cotangent), JVP scatterAdd(tangent).
const scatterAddP: Primitive<ScatterAddParams> = {
  name: 'scatterAdd',
  saves: { inputs: [1], output: false },
  vjp: (g, { inputs, params }) => [gather(g, inputs[1]!, params.axis), null],
  jvp: ([dg], { inputs, params, nb }) => (dg ? scatterAdd(dg, inputs[1]!, params.axis + nb, params.depth) : null),
};

/**
 * The adjoint of gather: a zero tensor of length `depth` along `axis`, with each slice i of g
 * (along `axis`) added at indices[i]; repeated indices add up. out.shape = g.shape with
 * `depth` at `axis`. The sums run in increasing i, so results are the same bit for bit on
 * every run. Indices outside [0, depth) throw (at the call when their range is known on the
 * CPU, else at the next readback).
 */
export function scatterAdd(g: Tensor, indices: Tensor, axis: number, depth: number): Tensor {
  if (g.dtype !== 'f32') throw new Error(`hypertape: scatterAdd needs f32 values, got ${g.describe()}`);
  const ax = normAxis('scatterAdd', axis, g.rank);
  if (indices.dtype !== 'i32' || indices.rank !== 1) {
    throw new Error(`hypertape: scatterAdd needs a 1-D i32 index tensor, got ${indices.describe()}`);
  }
  if (indices.size !== g.shape[ax]) {
    throw new Error(`hypertape: scatterAdd: ${indices.describe()} has ${indices.size} indices but axis ${ax} of ${g.describe()} has length ${g.shape[ax]}; they must match`);
  }
  if (!Number.isInteger(depth) || depth < 0) throw new Error(`hypertape: scatterAdd depth must be a non-negative integer, got ${depth}`);
  checkKnownIndices('scatterAdd', indices, depth, `depth ${depth}`);
  const A = sizeOf(g.shape.slice(0, ax));
  const B = sizeOf(g.shape.slice(ax + 1));
  const shape = [...g.shape];
  shape[ax] = depth;
  const out = scatterAddLaunch(g, indices, A, indices.size, depth, B, shape);
  return record(scatterAddP, [g, indices], out, { axis: ax, depth });
}

/**
 * Indices whose range is known on the CPU (made from CPU data, or by arange) are checked here,
 * at once; the others are checked by the kernel on the GPU and reported at the next readback.
 */
function checkKnownIndices(op: string, indices: Tensor, bound: number, what: string): void {
  const r = indices.knownRange;
  if (!r) return;
  const bad = r[0] < 0 ? r[0] : r[1] >= bound ? r[1] : null;
  if (bad !== null) {
    throw new Error(`hypertape: ${op}: index ${bad} in ${indices.describe()} is out of range for ${what} (valid: 0 to ${bound - 1}).`);
  }
}

/** One-hot f32 encoding of i32 labels: shape [...indices.shape, depth]. Not differentiable. */
export function oneHot(indices: Tensor, depth: number): Tensor {
  if (indices.dtype !== 'i32') throw new Error(`hypertape: oneHot needs i32 indices, got ${indices.describe()}`);
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`hypertape: oneHot depth must be a positive integer, got ${depth}`);
  checkKnownIndices('oneHot', indices, depth, `depth ${depth}`);
  return record(oneHotP, [indices], oneHotLaunch(indices, depth), { depth });
}

const oneHotP: Primitive<{ depth: number }> = { name: 'oneHot', nondiff: true };
