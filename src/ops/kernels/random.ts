// The random-number kernel (shaders/random.wgsl) and its launch.
import randomSrc from '../../../shaders/random.wgsl';
import trigSrc from '../../../shaders/trig.wgsl';
import { engine } from '../../gpu/device.js';
import { empty, type Shape, type Tensor } from '../../tensor.js';
import { cappedGrid, kernel, memoKernel, WG } from './template.js';

export function randomLaunch(shape: Shape, seed: number, kind: 'uniform' | 'normal', a: number, b: number): Tensor {
  const out = empty(shape);
  const n = out.size;
  if (n === 0) return out;
  const params = new ArrayBuffer(32);
  const u = new Uint32Array(params);
  const f = new Float32Array(params);
  u[0] = n;
  u[1] = seed >>> 0;
  u[2] = Math.floor(seed / 2 ** 32) >>> 0;
  u[3] = kind === 'uniform' ? 0 : 1;
  f[4] = a;
  f[5] = b;
  engine().dispatch(memoKernel('random', () => kernel(randomSrc, { WG, TRIG: trigSrc })), [out.buffer], params, cappedGrid(n));
  return out;
}
