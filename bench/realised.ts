// Timing an op only means something if its kernels ran. Under a lazy ops layer an op may record
// a graph and dispatch nothing until its value is needed; a result freed unrealised would then
// time as free. These helpers count the dispatches each timed call records and refuse to report
// a time for calls that dispatched nothing, and force realisation through the library's own
// entry point when it has one.
import * as hypertape from '../src/node.js';
import { memory, sync, type Tensor } from '../src/node.js';
import { tensorsIn } from '../src/tensor.js';
import { timeTogether, type TimeOptions, type Timing } from './util.js';

/**
 * Names under which a lazy ops layer may offer "compute this tensor now": a function exported by
 * the library taking the tensor, or a method of Tensor. Looked up at run time, so this file builds
 * before and after such a layer lands; when it has another name, add it here (the dispatch check
 * below says when that is needed).
 */
const REALISE_NAMES = ['realize', 'realise', 'materialize'] as const;

function realiser(): ((t: Tensor) => unknown) | undefined {
  const lib = hypertape as unknown as Record<string, unknown>;
  for (const name of REALISE_NAMES) {
    const f = lib[name];
    if (typeof f === 'function') return f as (t: Tensor) => unknown;
  }
  const proto = hypertape.Tensor.prototype as unknown as Record<string, unknown>;
  for (const name of REALISE_NAMES) {
    if (typeof proto[name] === 'function') return (t: Tensor) => (t as unknown as Record<string, () => unknown>)[name]!();
  }
  return undefined;
}

/** `fn` wrapped so that every tensor it returns is realised (when the library can be asked to). */
export function realising(fn: () => Tensor | Tensor[] | void): () => Tensor | Tensor[] | void {
  const realise = realiser();
  if (!realise) return fn;
  return () => {
    const out = fn();
    for (const t of tensorsIn(out)) realise(t);
    return out;
  };
}

/** Realises `t` now if the library has a realise function (its GPU buffer is then filled). */
export function realiseNow(t: Tensor): void {
  realiser()?.(t);
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
