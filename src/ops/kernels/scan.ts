// The cumulative-sum kernel (shaders/scan.wgsl) and its launch. Nothing here knows about autodiff.
import scanSrc from '../../../shaders/scan.wgsl';
import { engine } from '../../gpu/device.js';
import { empty, type Tensor } from '../../tensor.js';
import { paramLayout } from './params.js';
import { cappedGrid, checkInputs, kernel, memoKernel, WG } from './template.js';

/** x viewed as [A, R, B], summed along R; reverse 1: from the last element to the first. */
const PARAMS = paramLayout({ A: 'u32', R: 'u32', B: 'u32', reverse: 'u32' });

/**
 * The inclusive cumulative sum of x, viewed as [A, R, B] (contiguous), along R, as a new tensor of
 * x's shape; `reverse` sums from the end of each line backwards.
 */
export function cumsumLaunch(x: Tensor, A: number, R: number, B: number, reverse: boolean): Tensor {
  checkInputs(x);
  const out = empty(x.shape);
  if (out.size === 0) return out;
  const k = memoKernel('cumsum', () => kernel(scanSrc, { PARAMS: PARAMS.wgsl, WG }));
  engine().dispatch(k, [out.buffer, x.buffer], PARAMS.pack({ A, R, B, reverse: reverse ? 1 : 0 }), cappedGrid(A * B));
  return out;
}
