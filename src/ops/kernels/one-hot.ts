// The one-hot kernel (shaders/one_hot.wgsl) and its launch.
import oneHotSrc from '../../../shaders/one_hot.wgsl';
import { engine } from '../../gpu/device.js';
import { empty, type Tensor } from '../../tensor.js';
import { cappedGrid, checkInputs, kernel, memoKernel, WG } from './template.js';

export function oneHotLaunch(idx: Tensor, depth: number): Tensor {
  checkInputs(idx);
  const out = empty([...idx.shape, depth]);
  if (out.size === 0) return out;
  const e = engine();
  e.dispatch(memoKernel('oneHot', () => ({ ...kernel(oneHotSrc, { WG }), writable: 2 })),
    [out.buffer, e.indexErrorBuffer(), idx.buffer], new Uint32Array([idx.size, depth, 0, 0]).buffer, cappedGrid(out.size));
  return out;
}
