// Launches of the convolution and max-pooling kernels (shaders/conv_*.wgsl). Each kernel's
// parameter block is declared once here (see params.ts). Nothing here knows about autodiff; the
// ops in src/ops/conv.ts and src/ops/pool.ts call these.
import im2colSrc from '../../../shaders/conv_im2col.wgsl';
import col2imSrc from '../../../shaders/conv_col2im.wgsl';
import poolCommonSrc from '../../../shaders/conv_pool_common.wgsl';
import poolPickSrc from '../../../shaders/conv_pool_pick.wgsl';
import poolRouteSrc from '../../../shaders/conv_pool_route.wgsl';
import poolRouteCellsSrc from '../../../shaders/conv_pool_route_cells.wgsl';
import { engine } from '../../gpu/device.js';
import { empty, type Shape, type Tensor } from '../../tensor.js';
import { cappedGrid, kernel, memoKernel, WG } from './template.js';
import { paramLayout } from './params.js';

/** Where the patches of a convolution of an [N, C, H, W] input with a [., C, kh, kw] kernel lie. */
export interface ConvGeometry {
  /** Input channels. */
  C: number;
  /** Input height and width. */
  H: number;
  W: number;
  /** Kernel height and width. */
  kh: number;
  kw: number;
  /** Strides (rows, columns). */
  sh: number;
  sw: number;
  /** Zero padding on each side (rows, columns). */
  ph: number;
  pw: number;
  /** Output size: Ho = floor((H + 2 ph - kh) / sh) + 1, likewise Wo. */
  Ho: number;
  Wo: number;
}

const IM2COL = paramLayout({
  C: 'u32', H: 'u32', W: 'u32', kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', Ho: 'u32', Wo: 'u32',
  n0: 'u32', rows: 'u32',
});
const COL2IM = paramLayout({
  C: 'u32', H: 'u32', W: 'u32', kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', Ho: 'u32', Wo: 'u32',
  count: 'u32',
});
const POOL = paramLayout({ P: 'u32', Pk: 'u32', H: 'u32', W: 'u32', Ho: 'u32', Wo: 'u32', size: 'u32', stride: 'u32' });

function geometryParams(g: ConvGeometry) {
  return { C: g.C, H: g.H, W: g.W, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, Ho: g.Ho, Wo: g.Wo };
}

/**
 * The patches of images n0 .. n0 + n - 1 of x ([N, C, H, W], contiguous) as a new
 * [n, C kh kw, Ho Wo] tensor.
 */
export function im2colLaunch(x: Tensor, g: ConvGeometry, n0: number, n: number): Tensor {
  const CK = g.C * g.kh * g.kw;
  const out = empty([n, CK, g.Ho * g.Wo]);
  if (out.size === 0) return out;
  const k = memoKernel('im2col', () => kernel(im2colSrc, { PARAMS: IM2COL.wgsl, WG }));
  engine().dispatch(k, [out.buffer, x.buffer], IM2COL.pack({ ...geometryParams(g), n0, rows: n * CK }), cappedGrid(n * CK * g.Ho));
  return out;
}

/** The transpose of im2col: cols [n, C kh kw, Ho Wo] summed back into a new [n, C, H, W] tensor. */
export function col2imLaunch(cols: Tensor, g: ConvGeometry, n: number): Tensor {
  const out = empty([n, g.C, g.H, g.W]);
  if (out.size === 0) return out;
  const k = memoKernel('col2im', () => kernel(col2imSrc, { PARAMS: COL2IM.wgsl, WG }));
  engine().dispatch(k, [out.buffer, cols.buffer], COL2IM.pack({ ...geometryParams(g), count: out.size }), cappedGrid(out.size));
  return out;
}

/** Max-pooling windows: size x size, `stride` apart, no padding, over planes of H x W. */
export interface PoolGeometry {
  /** Plane height and width. */
  H: number;
  W: number;
  /** Window side. */
  size: number;
  /** Step between windows. */
  stride: number;
  /** Windows down and across: floor((H - size) / stride) + 1, likewise Wo. */
  Ho: number;
  Wo: number;
}

type PoolKernel = 'pick' | 'route' | 'routeCells';
const POOL_SOURCES: Record<PoolKernel, string> = { pick: poolPickSrc, route: poolRouteSrc, routeCells: poolRouteCellsSrc };

/** Runs a pooling kernel over P planes; its units of work are outputs, or windows for 'routeCells'. */
function poolLaunch(which: PoolKernel, data: Tensor, key: Tensor, g: PoolGeometry, outShape: Shape): Tensor {
  const out = empty(outShape);
  if (out.size === 0) return out;
  const HW = g.H * g.W;
  const P = data.size / (which === 'pick' ? HW : g.Ho * g.Wo);
  const k = memoKernel(`pool|${which}|${g.size}`, () => kernel(POOL_SOURCES[which].replace('{{COMMON}}', poolCommonSrc), { PARAMS: POOL.wgsl, WG, SIZE: g.size }));
  const params = POOL.pack({ P, Pk: key.size / HW, H: g.H, W: g.W, Ho: g.Ho, Wo: g.Wo, size: g.size, stride: g.stride });
  engine().dispatch(k, [out.buffer, data.buffer, key.buffer], params, cappedGrid(which === 'routeCells' ? P * g.Ho * g.Wo : out.size));
  return out;
}

/**
 * h at each window's argmax of `key`: h is [..., H, W] with key's planes repeated in front
 * (h.size a multiple of key.size); the result is [..., Ho, Wo].
 */
export function poolPickLaunch(h: Tensor, key: Tensor, g: PoolGeometry): Tensor {
  return poolLaunch('pick', h, key, g, [...h.shape.slice(0, -2), g.Ho, g.Wo]);
}

/**
 * The transpose of pick: g [..., Ho, Wo] routed to the argmax pixels, a new [..., H, W] tensor,
 * in gather form (each pixel written by one invocation, no atomics, deterministic).
 */
export function poolRouteLaunch(grad: Tensor, key: Tensor, g: PoolGeometry): Tensor {
  const shape = [...grad.shape.slice(0, -2), g.H, g.W];
  // Disjoint windows: one invocation per window writes its cell; overlapping ones: per pixel.
  if (g.stride >= g.size) return poolLaunch('routeCells', grad, key, g, shape);
  return poolLaunch('route', grad, key, g, shape);
}
