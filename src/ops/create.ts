// Tensor creation on the GPU: fills, ranges and seeded random numbers. All are constants for
// autodiff (no rules needed).
import { Storage, Tensor, checkDType, empty, type DType, type Shape } from '../tensor.js';
import { engine } from '../gpu/device.js';
import { elementwise } from './kernels/elementwise.js';
import { lazyElementwise } from './fusion/graph.js';
import { randomLaunch } from './kernels/random.js';

const fullCode = { name: 'full', expr: 'p.scalars.x' };

/** A tensor filled with `value` (f32: pending, computed where it is read, like an elementwise op). */
export function full(shape: Shape, value: number, dtype: DType = 'f32'): Tensor {
  checkDType('full', dtype);
  if (dtype === 'f32') return lazyElementwise(fullCode, [], shape, 'f32', [value]);
  if (!Number.isInteger(value)) throw new Error(`hypertape: full: ${value} is not an integer for an i32 tensor`);
  const out = empty(shape, dtype);
  const expr = 'i32(p.scalars.x)';
  elementwise({ shape, expr, inputs: [], out: { tensor: out }, scalars: [value], name: 'full' });
  out.knownRange = [value, value];
  return out;
}

/** A tensor of zeros. */
export const zeros = (shape: Shape, dtype: DType = 'f32'): Tensor => full(shape, 0, dtype);
/** A tensor of ones. */
export const ones = (shape: Shape, dtype: DType = 'f32'): Tensor => full(shape, 1, dtype);
/** Zeros with the shape and dtype of `t`. */
export const zerosLike = (t: Tensor): Tensor => full(t.shape, 0, t.dtype);
/** Ones with the shape and dtype of `t`. */
export const onesLike = (t: Tensor): Tensor => full(t.shape, 1, t.dtype);

/** [start, start + step, ...) below `stop`, like NumPy's arange. */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'f32'): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  checkDType('arange', dtype);
  if (step === 0) throw new Error('hypertape: arange step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out = empty([n], dtype);
  const expr = dtype === 'f32' ? 'p.scalars.x + p.scalars.y * f32(i)' : 'i32(p.scalars.x) + i32(p.scalars.y) * i32(i)';
  elementwise({ shape: [n], expr, inputs: [], out: { tensor: out }, scalars: [start, step], name: 'arange' });
  if (dtype === 'i32' && n > 0) {
    const last = Math.trunc(start) + Math.trunc(step) * (n - 1);
    out.knownRange = [Math.min(Math.trunc(start), last), Math.max(Math.trunc(start), last)];
  }
  return out;
}

/** Options of the random generators. */
export interface RandomOptions {
  /** Same seed, same numbers on every adapter (Node and browser). Default 0. */
  seed?: number;
}

function checkSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
    throw new Error(`hypertape: random seed must be an integer in [0, 2^53 - 1] (Number.MAX_SAFE_INTEGER), got ${seed}`);
  }
  return seed;
}

/** Uniform values in [low, high) (default [0, 1)), from a counter-based generator on the GPU: the same seed gives the same numbers on every adapter. */
export function randomUniform(shape: Shape, opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  return randomLaunch(shape, checkSeed(opts.seed ?? 0), 'uniform', opts.low ?? 0, opts.high ?? 1);
}

/** Normal values with mean `mean` and standard deviation `std` (default 0 and 1), from a counter-based generator on the GPU. */
export function randomNormal(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  return randomLaunch(shape, checkSeed(opts.seed ?? 0), 'normal', opts.mean ?? 0, opts.std ?? 1);
}

// Scalars used as op operands (x * 0.5) live in small persistent tensors, one per value, so a
// loop that multiplies by the same step size uploads it once. The cache keeps the most recently
// used values (a decaying step size makes a new one every iteration); its buffers are engine
// internals, like the uniform ring, and are not counted by memory(). An evicted constant that a
// tape still references stays alive through the tape's own handle.
const CONSTANT_CACHE = 256;
const constants = new Map<number, { engine: unknown; t: Tensor }>();

export function scalarConst(value: number): Tensor {
  const e = engine();
  const key = Object.is(value, -0) ? 0 : value;
  const hit = constants.get(key);
  if (hit && hit.engine === e && !hit.t.disposed) {
    constants.delete(key);
    constants.set(key, hit);
    return hit.t;
  }
  if (hit) constants.delete(key);
  while (constants.size >= CONSTANT_CACHE) {
    const [oldest, entry] = constants.entries().next().value as [number, { engine: unknown; t: Tensor }];
    constants.delete(oldest);
    if (entry.engine === e && !entry.t.disposed) entry.t.dispose();
  }
  const t = new Tensor(new Storage(e.acquireBuffer(4, { internal: true }), 4, true), [], 'f32', { untracked: true });
  e.upload(t.buffer, new Float32Array([value]));
  constants.set(key, { engine: e, t });
  return t;
}
