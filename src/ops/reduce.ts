// Reductions over any set of axes (sum, prod, max, min, argmax, argmin) and the ops built from
// them (mean, var, std, logsumexp, softmax, log-softmax). Kernels see an [A, R, B] view: reduced axes that are not one
// contiguous block are first moved to the end by a strided copy.
import { Tensor, sizeOf, type Shape } from '../tensor.js';
import { checkF32, record, type Primitive } from './core.js';
import { elementwise } from './kernels/elementwise.js';
import { reduceARB, type ReduceKind } from './kernels/reduce.js';
import { lazyElementwise, lazyReduce, pendingPlan } from './fusion/graph.js';
import { contiguousStrides } from './kernels/template.js';
import { broadcastTo, normAxis, reshape } from './shape.js';
import { div, equal, exp, log, mul, sub, add, where, sqrt, square } from './elementwise.js';

/** Axes to reduce over: one axis, a list, or undefined for all. Negative axes count from the end. */
export type Axes = number | readonly number[] | undefined;

/** @internal The axes of `axes` as sorted, distinct, non-negative indices below `rank`; `op` names the caller in errors. */
export function normAxes(op: string, axes: Axes, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(op, a, rank)))].sort((a, b) => a - b);
  return out;
}

function keptShape(shape: Shape, axes: number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** Launches the reduction; the result has the reduced axes removed (or kept as 1s). */
function reduceLaunch(x: Tensor, axes: number[], keepdims: boolean, kind: ReduceKind): Tensor {
  const outShape = keptShape(x.shape, axes, keepdims);
  const contiguousBlock = axes.length === 0 || axes[axes.length - 1]! - axes[0]! === axes.length - 1;
  let flat: Tensor;
  if (axes.length === 0) {
    const expr = kind === 'maxShift' ? 'select(a, 0.0, abs(a) > 3.4028234e38)' : 'a';
    flat = elementwise({ shape: x.shape, expr, inputs: [{ tensor: x }] });
  } else if (contiguousBlock) {
    const A = sizeOf(x.shape.slice(0, axes[0]));
    const R = sizeOf(axes.map((a) => x.shape[a]!));
    const B = sizeOf(x.shape.slice(axes[axes.length - 1]! + 1));
    // Pending: computed when needed (never if dropped unread), a pending x computed by the
    // reduction as it reads it (one kernel, nothing written out).
    if (x.size > 0) return lazyReduce(x, A, R, B, kind, outShape);
    flat = reduceARB(x, A, R, B, kind);
  } else {
    const kept = [...Array(x.rank).keys()].filter((i) => !axes.includes(i));
    const perm = [...kept, ...axes];
    const own = contiguousStrides(x.shape);
    const moved = elementwise({ shape: perm.map((p) => x.shape[p]!), expr: 'a', inputs: [{ tensor: x, strides: perm.map((p) => own[p]!) }] });
    flat = reduceARB(moved, sizeOf(kept.map((k) => x.shape[k]!)), sizeOf(axes.map((a) => x.shape[a]!)), 1, kind);
    moved.dispose();
  }
  const out = flat.untracedView(outShape);
  flat.dispose();
  return out;
}

interface ReduceParams {
  axes: number[];
  keepdims: boolean;
}

const sumP: Primitive<ReduceParams> = {
  name: 'sum',
  saves: { inputs: [], output: false },
  vjp: (g, { shapes, params }) => [broadcastTo(reshape(g, keptShape(shapes[0]!, params.axes, true)), shapes[0]!)],
  jvp: ([dx], { params, nb }) => sum(dx!, params.axes.map((a) => a + nb), params.keepdims),
};

/** Sum over `axes` (all by default). */
export function sum(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  checkF32('sum', x);
  const ax = normAxes('sum', axes, x.rank);
  return record(sumP, [x], reduceLaunch(x, ax, keepdims, 'sum'), { axes: ax, keepdims });
}

/**
 * 1 where x equals its max (or min) along the axes, shared equally between ties: the gradient of
 * max and min, as PyTorch's amax/amin. A NaN result gives a NaN gradient for its slice (0 / 0).
 */
function extremeMask(x: Tensor, out: Tensor, params: ReduceParams): Tensor {
  const m = equal(x, reshape(out, keptShape(x.shape, params.axes, true)));
  return div(m, sum(m, params.axes, true));
}

/** The Primitive of max or min: the gradient goes to the extreme entries (see extremeMask). */
function extremeP(name: string): Primitive<ReduceParams> {
  return {
    name,
    vjp: (g, { inputs: [x], out, params }) => [mul(reshape(g, keptShape(x!.shape, params.axes, true)), extremeMask(x!, out!, params))],
    jvp: ([dx], { inputs: [x], out, params, nb }) => sum(mul(dx!, extremeMask(x!, out, params)), params.axes.map((a) => a + nb), params.keepdims),
  };
}

const maxP = extremeP('max');
const minP = extremeP('min');

/** Max over `axes` (all by default); NaN if the slice holds a NaN. Ties share the gradient equally. */
export function max(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  checkF32('max', x);
  const ax = normAxes('max', axes, x.rank);
  return record(maxP, [x], reduceLaunch(x, ax, keepdims, 'max'), { axes: ax, keepdims });
}

/** Min over `axes` (all by default); NaN if the slice holds a NaN. Ties share the gradient equally. */
export function min(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  checkF32('min', x);
  const ax = normAxes('min', axes, x.rank);
  return record(minP, [x], reduceLaunch(x, ax, keepdims, 'min'), { axes: ax, keepdims });
}

/**
 * d prod(x) / d x_i = prod_{j != i} x_j, without dividing by a zero: out / x_i where x_i != 0
 * (which is 0 when another entry is 0, and whose derivative in that entry is right), and the
 * product of the other (non-zero) entries where x_i is the only zero of its slice. Exact to first
 * order for any number of zeros, to second order for at most one zero per slice.
 */
function prodGrad(x: Tensor, out: Tensor, params: ReduceParams): Tensor {
  const kept = keptShape(x.shape, params.axes, true);
  const isZero = equal(x, 0);
  const zeros = sum(isZero, params.axes, true);
  const othersIfOnlyZero = where(equal(zeros, 1), prod(where(isZero, 1, x), params.axes, true), 0);
  return where(isZero, othersIfOnlyZero, div(reshape(out, kept), where(isZero, 1, x)));
}

const prodP: Primitive<ReduceParams> = {
  name: 'prod',
  vjp: (g, { inputs: [x], out, params }) => [mul(reshape(g, keptShape(x!.shape, params.axes, true)), prodGrad(x!, out!, params))],
  jvp: ([dx], { inputs: [x], out, params, nb }) => sum(mul(dx!, prodGrad(x!, out, params)), params.axes.map((a) => a + nb), params.keepdims),
};

/** Product over `axes` (all by default). Its gradient handles zeros (see the README's conventions). */
export function prod(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  checkF32('prod', x);
  const ax = normAxes('prod', axes, x.rank);
  return record(prodP, [x], reduceLaunch(x, ax, keepdims, 'prod'), { axes: ax, keepdims });
}

const argmaxP: Primitive<{ axis: number }> = { name: 'argmax', nondiff: true };
const argminP: Primitive<{ axis: number }> = { name: 'argmin', nondiff: true };

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, axis: number): Tensor {
  checkF32(op, x);
  const ax = normAxis(op, axis, x.rank);
  const A = sizeOf(x.shape.slice(0, ax));
  const B = sizeOf(x.shape.slice(ax + 1));
  const flat = reduceARB(x, A, x.shape[ax]!, B, op, pendingPlan(x) ?? undefined);
  const out = flat.untracedView(keptShape(x.shape, [ax], false));
  flat.dispose();
  return record(op === 'argmax' ? argmaxP : argminP, [x], out, { axis: ax });
}

/** Index (as f32) of the first maximum along `axis`; a NaN counts as the maximum. Not differentiable. */
export function argmax(x: Tensor, axis = -1): Tensor {
  return argExtreme('argmax', x, axis);
}

/** Index (as f32) of the first minimum along `axis`; a NaN counts as the minimum. Not differentiable. */
export function argmin(x: Tensor, axis = -1): Tensor {
  return argExtreme('argmin', x, axis);
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  checkF32('mean', x);
  const ax = normAxes('mean', axes, x.rank);
  const count = sizeOf(ax.map((a) => x.shape[a]!));
  return mul(sum(x, ax, keepdims), 1 / count);
}

const stopP: Primitive<null> = { name: 'stopGradient', nondiff: true };

/** The same values, treated as a constant by autodiff. */
export function stopGradient(x: Tensor): Tensor {
  return record(stopP, [x], x.untracedView(x.shape), null);
}

/** log(sum(exp(x))) over `axes`, computed around the max so it neither overflows nor underflows. */
export function logsumexp(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  checkF32('logsumexp', x);
  const ax = normAxes('logsumexp', axes, x.rank);
  const m = constantShift(x, ax);
  const lse = add(log(sum(exp(sub(x, m)), ax, true)), m);
  m.dispose();
  return keepdims ? lse : reshape(lse, keptShape(x.shape, ax, false));
}

/**
 * max(x) over `axes` (kept as 1s), with an infinite max replaced by 0, as a constant for autodiff:
 * the shift of logsumexp and logSoftmax, which cancels mathematically. The kernel alone,
 * unrecorded, so no tape saves it and no tangent or max mask is computed for it
 * (stopGradient(max(x)) would still pay for max's rules). Without the replacement a slice of
 * -inf would compute -inf - (-inf) = NaN; with it, logsumexp gives -inf there, as PyTorch does.
 */
function constantShift(x: Tensor, axes: number[]): Tensor {
  return reduceLaunch(x, axes, true, 'maxShift');
}

/** log(softmax(x)) along `axis`, stable for large |x|; NaN on a slice that is all -inf (no distribution). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return logSoftmaxAlong('logSoftmax', x, axis);
}

/** exp(x) / sum(exp(x)) along `axis`, stable for large |x|; NaN on a slice that is all -inf. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return exp(logSoftmaxAlong('softmax', x, axis));
}

/** log-softmax's last step: (x - m) - log(s), from the parts one reduction computes. */
const logSoftmaxCode = { name: 'logSoftmax', expr: '(a - b) - c' };

/**
 * log-softmax as one op: y = x - logsumexp(x) along the axis, with dy = dx - sum(softmax dx)
 * (JVP) and x-bar = g - softmax sum(g) (VJP), softmax = exp(y). Both rules are written with the
 * library's ops, so they differentiate again.
 */
const logSoftmaxP: Primitive<{ axis: number }> = {
  name: 'logSoftmax',
  saves: { inputs: [], output: true },
  vjp: (g, { out, params }) => [sub(g, mul(exp(out!), sum(g, params.axis, true)))],
  jvp: ([dx], { out, params, nb }) => sub(dx!, sum(mul(exp(out), dx!), params.axis + nb, true)),
};

/**
 * log-softmax along one axis; `op` names the public op in error messages. One reduction
 * (kernels/reduce.ts, 'logSoftmaxParts': the running max and the sum of exp rescaled to it, in
 * one pass) gives the shift m and log(s), s = sum(exp(x - m)); then y = (x - m) - log(s), which
 * is exact where x is near m. x - logsumexp(x) would not be: near 1e4 an f32 logsumexp carries
 * an error of 1e-3. A pending x is computed by the reduction as it reads it.
 */
function logSoftmaxAlong(op: string, x: Tensor, axis: number): Tensor {
  checkF32(op, x);
  const ax = normAxis(op, axis, x.rank);
  if (x.size === 0) return record(logSoftmaxP, [x], x.untracedView(x.shape), { axis: ax });
  const A = sizeOf(x.shape.slice(0, ax));
  const B = sizeOf(x.shape.slice(ax + 1));
  const kept = keptShape(x.shape, [ax], true);
  const parts = lazyReduce(x, A, x.shape[ax]!, B, 'logSoftmaxParts', [2, ...kept]);
  // Untraced: the op is recorded as logSoftmax, with its own rules.
  const out = lazyElementwise(logSoftmaxCode, [x, { part: parts, offset: 0, shape: kept }, { part: parts, offset: A * B, shape: kept }], x.shape, 'f32');
  parts.dispose();
  return record(logSoftmaxP, [x], out, { axis: ax });
}

/** Options of variance and std. */
export interface VarianceOptions {
  /**
   * Subtracted from the count in the denominator: 0 (default, NumPy's and JAX's ddof = 0, the
   * array API's correction = 0) gives the population variance, 1 the unbiased estimate (the
   * default of PyTorch's torch.var).
   */
  correction?: number;
  /** Keep the reduced axes as 1s. */
  keepdims?: boolean;
}

/** Variance over `axes` (all by default): sum((x - mean)^2) / (n - correction), two-pass. */
export function variance(x: Tensor, axes?: Axes, opts: VarianceOptions = {}): Tensor {
  checkF32('variance', x);
  const ax = normAxes('variance', axes, x.rank);
  const correction = opts.correction ?? 0;
  const n = sizeOf(ax.map((a) => x.shape[a]!));
  if (!(n - correction > 0)) {
    throw new Error(`hypertape: variance over ${n} entries of ${x.describe()} with correction ${correction} divides by ${n - correction}; reduce over more entries or lower the correction`);
  }
  const centred = sub(x, mean(x, ax, true));
  return mul(sum(square(centred), ax, opts.keepdims ?? false), 1 / (n - correction));
}

/** Standard deviation over `axes`: sqrt(variance) (same options). Its gradient is infinite where it is 0. */
export function std(x: Tensor, axes?: Axes, opts: VarianceOptions = {}): Tensor {
  return sqrt(variance(x, axes, opts));
}
