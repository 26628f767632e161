// The one-hot kernel (shaders/one_hot.wgsl) and its launch.
import oneHotSrc from '../../../shaders/one_hot.wgsl';
import { engine } from '../../gpu/device.js';
import { empty, type Tensor } from '../../tensor.js';
import { paramLayout } from './params.js';
import { cappedGrid, checkInputs, kernel, memoKernel, WG } from './template.js';

/** n indices, rows of `depth`. */
const PARAMS = paramLayout({ n: 'u32', depth: 'u32' });

/**
 * The one-hot rows of idx as a new [...idx.shape, depth] f32 tensor; an index outside
 * [0, depth) gives a row of zeros and is recorded in the engine's index-error block.
 */
export function oneHotLaunch(idx: Tensor, depth: number): Tensor {
  checkInputs(idx);
  const out = empty([...idx.shape, depth]);
  if (out.size === 0) return out;
  const e = engine();
  e.dispatch(memoKernel('oneHot', () => ({ ...kernel(oneHotSrc, { PARAMS: PARAMS.wgsl, WG }), writable: 2 })),
    [out.buffer, e.indexErrorBuffer(), idx.buffer], PARAMS.pack({ n: idx.size, depth }), cappedGrid(out.size));
  return out;
}
