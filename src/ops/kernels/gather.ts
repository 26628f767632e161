// The gather kernel (shaders/gather.wgsl) and its launch.
import gatherSrc from '../../../shaders/gather.wgsl';
import { engine } from '../../gpu/device.js';
import { empty, type Shape, type Tensor } from '../../tensor.js';
import { cappedGrid, checkInputs, kernel, memoKernel, WG } from './template.js';

export function gatherLaunch(x: Tensor, idx: Tensor, A: number, X: number, B: number, outShape: Shape): Tensor {
  checkInputs(x, idx);
  const out = empty(outShape, x.dtype);
  const J = idx.size;
  if (out.size === 0) return out;
  const e = engine();
  // Bindings: the output and the engine's index-error block (both written), then x and idx.
  e.dispatch(memoKernel(`gather|${x.dtype}`, () => ({ ...kernel(gatherSrc, { WG, T: x.dtype }), writable: 2 })),
    [out.buffer, e.indexErrorBuffer(), x.buffer, idx.buffer], new Uint32Array([A, X, B, J]).buffer, cappedGrid(A * J * B));
  return out;
}
