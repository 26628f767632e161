// Cumulative sums along an axis. The kernel (shaders/scan.wgsl) walks each line of the [A, R, B]
// view in order; the op is linear, so its VJP is the cumulative sum in the other direction and
// its JVP the same cumulative sum of the tangent.
import { sizeOf, Tensor } from '../tensor.js';
import { checkF32, record, type Primitive } from './core.js';
import { cumsumLaunch } from './kernels/scan.js';
import { normAxis } from './shape.js';

interface CumsumParams {
  axis: number;
  reverse: boolean;
}

const cumsumP: Primitive<CumsumParams> = {
  name: 'cumsum',
  saves: { inputs: [], output: false },
  vjp: (g, { params }) => [cumsum(g, params.axis, { reverse: !params.reverse })],
  jvp: ([dx], { params, nb }) => cumsum(dx!, params.axis + nb, { reverse: params.reverse }),
};

/** Options of cumsum. */
export interface CumsumOptions {
  /** Sum from the end of the axis backwards (out[i] = sum_{j >= i} x[j]), as JAX's reverse. */
  reverse?: boolean;
}

/** Inclusive cumulative sum along `axis`: out[i] = sum_{j <= i} x[j] (or j >= i with reverse). */
export function cumsum(x: Tensor, axis = -1, opts: CumsumOptions = {}): Tensor {
  checkF32('cumsum', x);
  if (x.rank === 0) throw new Error(`hypertape: cumsum needs a tensor of rank >= 1, got ${x.describe()}`);
  const ax = normAxis('cumsum', axis, x.rank);
  const reverse = !!opts.reverse;
  const A = sizeOf(x.shape.slice(0, ax));
  const B = sizeOf(x.shape.slice(ax + 1));
  const out = cumsumLaunch(x, A, x.shape[ax]!, B, reverse);
  return record(cumsumP, [x], out, { axis: ax, reverse });
}
