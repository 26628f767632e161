// Max-pooling over 2-D windows, NCHW: x [N, C, H, W] -> [N, C, Ho, Wo], Ho = floor((H - size) /
// stride) + 1, no padding. Each window's value is its maximum; ties go to the first maximum in
// row-major order (the gradient goes to that one entry, as in PyTorch), and a NaN in a window
// makes its value NaN (the first NaN is the window's argmax).
//
// Three primitives over the same window argmax, computed in the kernels from x (no index tensor
// is stored): maxPool2d itself; pick(h, x), h's entries at x's argmaxes (maxPool2d(x) = pick(x, x),
// and the JVP: pick(dx, x)); route(g, x), its transpose (the VJP: g sent to the argmaxes, a
// gather-form sum, no atomics). pick and route are linear in their first input and each other's
// VJP, so every order of derivative exists; the argmax positions are constant almost everywhere,
// so x gets no derivative through them.
import type { Tensor } from '../tensor.js';
import { checkF32, record, type Primitive } from './core.js';
import { poolPickLaunch, poolRouteLaunch, type PoolGeometry } from './kernels/conv.js';

/** Options of maxPool2d. */
export interface MaxPoolOptions {
  /** Window side (default 2). */
  size?: number;
  /** Step between windows (default: size, windows that do not overlap). */
  stride?: number;
}

const KEY = { inputs: [1], output: false };

const pickP: Primitive<PoolGeometry> = {
  name: 'maxPoolPick',
  saves: KEY,
  vjp: (g, { inputs: [, x], params }) => [route(g, x!, params), null],
  jvp: ([dh], { inputs: [, x], params }) => (dh ? pick(dh, x!, params) : null),
};

/** h [..., N, C, H, W] at the argmaxes of x [N, C, H, W]'s windows: [..., N, C, Ho, Wo]. */
function pick(h: Tensor, x: Tensor, g: PoolGeometry): Tensor {
  return record(pickP, [h, x], poolPickLaunch(h, x, g), g);
}

const routeP: Primitive<PoolGeometry> = {
  name: 'maxPoolRoute',
  saves: KEY,
  vjp: (G, { inputs: [, x], params }) => [pick(G, x!, params), null],
  jvp: ([dg], { inputs: [, x], params }) => (dg ? route(dg, x!, params) : null),
};

/** g [..., N, C, Ho, Wo] added into zeros [..., N, C, H, W] at the argmaxes of x's windows. */
function route(g: Tensor, x: Tensor, geo: PoolGeometry): Tensor {
  return record(routeP, [g, x], poolRouteLaunch(g, x, geo), geo);
}

const maxPoolP: Primitive<PoolGeometry> = {
  name: 'maxPool2d',
  saves: { inputs: [0], output: false },
  vjp: (g, { inputs: [x], params }) => [route(g, x!, params)],
  jvp: ([dx], { inputs: [x], params }) => pick(dx!, x!, params),
};

/**
 * Max-pooling of x [N, C, H, W] (NCHW) over size x size windows `stride` apart (default 2 and
 * 2): [N, C, Ho, Wo] with Ho = floor((H - size) / stride) + 1, no padding. Ties: the first
 * maximum in row-major order gets the gradient. NaN propagates.
 */
export function maxPool2d(x: Tensor, options: MaxPoolOptions = {}): Tensor {
  checkF32('maxPool2d', x);
  if (x.rank !== 4) throw new Error(`hypertape: maxPool2d needs x of shape [N, C, H, W] (NCHW), got ${x.describe()}`);
  const size = options.size ?? 2;
  const stride = options.stride ?? size;
  for (const [name, v] of [['size', size], ['stride', stride]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new Error(`hypertape: maxPool2d: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  const [, , H, W] = x.shape as [number, number, number, number];
  if (size > H || size > W) {
    throw new Error(`hypertape: maxPool2d: the ${size}x${size} window is larger than the ${H}x${W} planes of x ${x.describe()}`);
  }
  const geo: PoolGeometry = { H, W, size, stride, Ho: Math.floor((H - size) / stride) + 1, Wo: Math.floor((W - size) / stride) + 1 };
  return record(maxPoolP, [x], poolPickLaunch(x, x, geo), geo);
}
