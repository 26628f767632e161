// The gather kernel (shaders/gather.wgsl) and its launch.
import gatherSrc from '../../../shaders/gather.wgsl';
import { engine } from '../../gpu/device.js';
import { empty, type Shape, type Tensor } from '../../tensor.js';
import { paramLayout } from './params.js';
import { cappedGrid, checkInputs, kernel, memoKernel, WG } from './template.js';

/** x viewed as [A, X, B], J indices. */
const PARAMS = paramLayout({ A: 'u32', X: 'u32', B: 'u32', J: 'u32' });

/**
 * out[a, j, b] = x[a, idx[j], b] as a new tensor of `outShape` (x viewed as [A, X, B]); an index
 * outside [0, X) reads 0 and is recorded in the engine's index-error block.
 */
export function gatherLaunch(x: Tensor, idx: Tensor, A: number, X: number, B: number, outShape: Shape): Tensor {
  checkInputs(x, idx);
  const out = empty(outShape, x.dtype);
  const J = idx.size;
  if (out.size === 0) return out;
  const e = engine();
  // Bindings: the output and the engine's index-error block (both written), then x and idx.
  e.dispatch(memoKernel(`gather|${x.dtype}`, () => ({ ...kernel(gatherSrc, { PARAMS: PARAMS.wgsl, WG, T: x.dtype }), writable: 2 })),
    [out.buffer, e.indexErrorBuffer(), x.buffer, idx.buffer], PARAMS.pack({ A, X, B, J }), cappedGrid(A * J * B));
  return out;
}
