// Reductions over any set of axes (sum, max, argmax) and the ops built from them (mean,
// logsumexp, softmax, log-softmax). Kernels see an [A, R, B] view: reduced axes that are not one
// contiguous block are first moved to the end by a strided copy.
import { Tensor, sizeOf, type Shape } from '../tensor.js';
import { checkF32, record, type Primitive } from './core.js';
import { contiguousStrides, elementwise, reduceARB, type ReduceKind } from './launch.js';
import { broadcastTo, normAxis, reshape } from './shape.js';
import { div, equal, exp, log, mul, sub, add } from './elementwise.js';

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
    flat = elementwise({ shape: x.shape, expr: 'a', inputs: [{ tensor: x }] });
  } else if (contiguousBlock) {
    const A = sizeOf(x.shape.slice(0, axes[0]));
    const R = sizeOf(axes.map((a) => x.shape[a]!));
    const B = sizeOf(x.shape.slice(axes[axes.length - 1]! + 1));
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

/** 1 where x equals its max along the axes, shared equally between ties. */
function maxMask(x: Tensor, out: Tensor, params: ReduceParams): Tensor {
  const m = equal(x, reshape(out, keptShape(x.shape, params.axes, true)));
  return div(m, sum(m, params.axes, true));
}

const maxP: Primitive<ReduceParams> = {
  name: 'max',
  vjp: (g, { inputs: [x], out, params }) => [mul(reshape(g, keptShape(x!.shape, params.axes, true)), maxMask(x!, out!, params))],
  jvp: ([dx], { inputs: [x], out, params, nb }) => sum(mul(dx!, maxMask(x!, out, params)), params.axes.map((a) => a + nb), params.keepdims),
};

/** Max over `axes` (all by default). */
export function max(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  checkF32('max', x);
  const ax = normAxes('max', axes, x.rank);
  return record(maxP, [x], reduceLaunch(x, ax, keepdims, 'max'), { axes: ax, keepdims });
}

const argmaxP: Primitive<{ axis: number }> = { name: 'argmax', nondiff: true };

/** Index (as f32) of the first maximum along `axis`. */
export function argmax(x: Tensor, axis = -1): Tensor {
  checkF32('argmax', x);
  const ax = normAxis('argmax', axis, x.rank);
  const A = sizeOf(x.shape.slice(0, ax));
  const B = sizeOf(x.shape.slice(ax + 1));
  const flat = reduceARB(x, A, x.shape[ax]!, B, 'argmax');
  const out = flat.untracedView(keptShape(x.shape, [ax], false));
  flat.dispose();
  return record(argmaxP, [x], out, { axis: ax });
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
  const m = constantMax(x, ax);
  const lse = add(log(sum(exp(sub(x, m)), ax, true)), m);
  m.dispose();
  return keepdims ? lse : reshape(lse, keptShape(x.shape, ax, false));
}

/**
 * max(x) over `axes` (kept as 1s) as a constant for autodiff, for shifts that cancel
 * mathematically: the kernel alone, unrecorded, so no tape saves it and no tangent or max mask
 * is computed for it (stopGradient(max(x)) would still pay for max's rules).
 */
function constantMax(x: Tensor, axes: number[]): Tensor {
  return reduceLaunch(x, axes, true, 'max');
}

/** log(softmax(x)) along `axis` (the last by default), computed stably around the max. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return logSoftmaxAlong('logSoftmax', x, axis);
}

/** e^x / sum(e^x) along `axis` (the last by default), computed stably around the max. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return exp(logSoftmaxAlong('softmax', x, axis));
}

/** log-softmax along one axis; `op` names the public op in error messages. */
function logSoftmaxAlong(op: string, x: Tensor, axis: number): Tensor {
  checkF32(op, x);
  const ax = normAxis(op, axis, x.rank);
  // (x - m) - log(sum(exp(x - m))) rather than x - logsumexp(x): near 1e4 an f32 logsumexp carries
  // an error of 1e-3, while x - m is exact for the entries that matter. The shift cancels
  // mathematically, so it is held constant for autodiff.
  const m = constantMax(x, [ax]);
  const shifted = sub(x, m);
  m.dispose();
  return sub(shifted, log(sum(exp(shifted), ax, true)));
}
