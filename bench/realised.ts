// Timing an op only means something if its kernels ran. Under the lazy ops layer an op records a
// graph and dispatches nothing until its value is needed; a result freed unrealised would then
// time as free. These helpers realise what each timed call returns (Tensor.realise), count the
// dispatches each call records, and refuse to report a time for calls that dispatched nothing.
import * as hypertape from '../src/node.js';
import { memory, sync, type Tensor } from '../src/node.js';
import { tensorsIn } from '../src/tensor.js';
import { timeTogether, type TimeOptions, type Timing } from './util.js';

/** `fn` wrapped so that every tensor it returns is realised (its kernels dispatched). */
export function realising(fn: () => Tensor | Tensor[] | void): () => Tensor | Tensor[] | void {
  return () => {
    const out = fn();
    for (const t of tensorsIn(out)) t.realise();
    return out;
  };
}

/** Realises `t` now (its GPU buffer is then filled). */
export function realiseNow(t: Tensor): void {
  t.realise();
}

/** Dispatches recorded by one call of `fn` (inside tidy, after a sync). */
export async function dispatchesOf(fn: () => unknown): Promise<number> {
  await sync();
  const before = memory().dispatches;
  hypertape.tidy(() => {
    fn();
  });
  await sync();
  return memory().dispatches - before;
}

/** A Timing and the dispatches of one call; `timing` is undefined when the call dispatched nothing. */
export interface CheckedTiming {
  /** The timing (as timeTogether's), or undefined when the call dispatched nothing. */
  timing?: Timing;
  /** Dispatches one call recorded. */
  dispatches: number;
}

/**
 * timeTogether on realised calls, after checking that each call dispatches at least one kernel
 * (a call that dispatches nothing is not timed: its `timing` is undefined, and the caller must
 * say so instead of printing a time). `yardsticks` (e.g. a buffer copy, which is no dispatch)
 * are timed in the same alternation without the check.
 */
export async function timeChecked(
  fns: (() => Tensor | Tensor[] | void)[],
  opts: TimeOptions = {},
  yardsticks: (() => void)[] = [],
): Promise<{ checked: CheckedTiming[]; yardsticks: Timing[] }> {
  const wrapped = fns.map(realising);
  const counts: number[] = [];
  for (const fn of wrapped) counts.push(await dispatchesOf(fn));
  const timed = wrapped.filter((_, i) => counts[i]! > 0);
  const timings = await timeTogether([...timed, ...yardsticks], opts);
  let next = 0;
  return {
    checked: counts.map((dispatches) => ({ dispatches, timing: dispatches > 0 ? timings[next++] : undefined })),
    yardsticks: timings.slice(timed.length),
  };
}

/** The note for a call that dispatched no kernel. */
export const NOT_REALISED = 'NOT MEASURED: the call dispatched no kernel (a lazy ops layer left it unrealised); add the library\'s realise function to REALISE_NAMES in bench/realised.ts';
