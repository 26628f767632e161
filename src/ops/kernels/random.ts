// The random-number kernel (shaders/random.wgsl) and its launch.
import randomSrc from '../../../shaders/random.wgsl';
import trigSrc from '../../../shaders/trig.wgsl';
import { engine } from '../../gpu/device.js';
import { empty, type Shape, type Tensor } from '../../tensor.js';
import { paramLayout } from './params.js';
import { cappedGrid, kernel, memoKernel, WG } from './template.js';

/**
 * n values from the 64-bit seed (seedLo, seedHi); kind 0: uniform on [a, b), kind 1: normal with
 * mean a and standard deviation b.
 */
const PARAMS = paramLayout({ n: 'u32', seedLo: 'u32', seedHi: 'u32', kind: 'u32', a: 'f32', b: 'f32' });

/**
 * A new tensor of `shape` with counter-based random numbers from `seed` (shaders/random.wgsl):
 * uniform on [a, b), or normal with mean a and standard deviation b.
 */
export function randomLaunch(shape: Shape, seed: number, kind: 'uniform' | 'normal', a: number, b: number): Tensor {
  const out = empty(shape);
  const n = out.size;
  if (n === 0) return out;
  const params = PARAMS.pack({ n, seedLo: seed >>> 0, seedHi: Math.floor(seed / 2 ** 32) >>> 0, kind: kind === 'uniform' ? 0 : 1, a, b });
  engine().dispatch(memoKernel('random', () => kernel(randomSrc, { PARAMS: PARAMS.wgsl, WG, TRIG: trigSrc })), [out.buffer], params, cappedGrid(n));
  return out;
}
