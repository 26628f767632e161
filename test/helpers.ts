// Shared test helpers: one engine for the whole suite, a seeded CPU PRNG for inputs, and
// closeness checks with stated tolerances.
import * as assert from 'uvu/assert';
import { init, memory, tensor, type Shape, type Tensor } from '../src/node.js';
import { mulberry32 } from '../src/data/random.js';

let ready: Promise<void> | null = null;

/** Initialises the GPU once for all suites (use as `suite.before(setup)`). */
export function setup(): Promise<void> {
  ready ??= init({ verbose: !!process.env.HYPERTAPE_VERBOSE }).then(() => undefined);
  return ready;
}

/** A seeded PRNG for test inputs (independent of the GPU's generator). */
export const rng = mulberry32;

/** n values uniform in [lo, hi). */
export function randArray(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/**
 * Distinct values spaced >= 0.05 apart in random order, so that a max (or a pooling window) has
 * one clear winner that finite-difference steps do not change.
 */
export function distinctValues(shape: Shape, seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const vals = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05 + 0.01 * r());
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [vals[i], vals[j]] = [vals[j]!, vals[i]!];
  }
  return tensor(Float32Array.from(vals), shape);
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** Throws with the worst element if |a - b| > atol + rtol * |b| anywhere. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}, what = 'values'): void {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (Number.isNaN(b) && Number.isNaN(a)) continue;
    if (a === b) continue;
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** Asserts that fn throws (or rejects) within `ms` with a message containing every fragment. */
export async function throwsWith(fn: () => unknown, fragments: (string | RegExp)[], ms = 10000): Promise<string> {
  let message: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms (a hang)`)), ms);
  });
  try {
    await Promise.race([Promise.resolve().then(fn), timeout]);
  } catch (e) {
    if ((e as Error).message.startsWith('did not settle')) throw e;
    assert.instance(e, Error, 'a non-Error was thrown');
    message = (e as Error).message;
  } finally {
    clearTimeout(timer);
  }
  if (message === null) assert.unreachable(`expected an error mentioning ${fragments.join(', ')}`);
  for (const f of fragments) {
    const ok = typeof f === 'string' ? message!.includes(f) : f.test(message!);
    assert.ok(ok, `error message lacks ${f}: "${message}"`);
  }
  return message!;
}

/** `fn`'s value and the kernels dispatched while it ran. */
export function dispatchesOf<T>(fn: () => T): { value: T; dispatches: number } {
  const before = memory().dispatches;
  const value = fn();
  return { value, dispatches: memory().dispatches - before };
}
