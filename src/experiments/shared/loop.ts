// The resumable hyper-iteration loop every experiment runs: from the run's saved `tau` to the
// requested number of hyper-iterations, timing each one, ticking the progress display, saving
// the state every few hyper-iterations, and stopping cleanly (save, then RunInterrupted) when the
// run's abort signal fires. What one hyper-iteration does is the experiment's `step`.
import { sync } from '../../index.js';
import type { Progress } from '../progress.js';
import { stopIfRequested } from './interrupt.js';
import type { HyperRun } from './state.js';

/** Runs `work` between two GPU syncs and records its seconds as this hyper-iteration's time. */
export type Timer = <T>(work: () => Promise<T> | T) => Promise<T>;

/** What `hyperIterate` runs: the record, the counts, one step, and how to save and stop. */
export interface HyperLoopOptions<R extends HyperRun> {
  /** The run's record: `tau`, `seconds` (and the peaks) are updated here. */
  run: R;
  /** Hyper-iterations in all (the loop ends when run.tau reaches it). */
  hyperIterations: number;
  /** Save every this-many hyper-iterations (not after the last: the caller saves with the final results). */
  checkpointEvery: number;
  /**
   * One hyper-iteration at iterate `tau`. Wrap the work to be timed (hypergradient and update)
   * in `time(...)`, once; work outside it (diagnostics, figures) is not counted. Without a call
   * to `time` the whole step is timed. Returns a note for the progress line.
   */
  step: (tau: number, time: Timer) => Promise<string | void>;
  /** Copies what lives on the GPU into `run` (e.g. reads lambda back) before each save. */
  persist?: () => Promise<void>;
  /** Writes the state (and partial results). */
  save: () => void | Promise<void>;
  progress?: Progress;
  /** The run's abort signal (RunContext.signal) and what to print when it stops the run. */
  stop?: { signal: AbortSignal; dir: string; resumeCommand: string; label?: string };
}

/** Keeps the largest peaks of GPU bytes of a hypergradient (its `stats`) in the run's record. */
export function recordPeaks(run: HyperRun, stats: { peakBytes: number; peakBytesTotal: number }): void {
  run.peakBytes = Math.max(run.peakBytes, stats.peakBytes);
  run.peakBytesTotal = Math.max(run.peakBytesTotal, stats.peakBytesTotal);
}

/**
 * Runs hyper-iterations run.tau .. hyperIterations-1. Before each one, a requested stop saves the
 * state (persist + save) and throws RunInterrupted; after each, tau advances and every
 * `checkpointEvery` hyper-iterations the state is saved.
 */
export async function hyperIterate<R extends HyperRun>(o: HyperLoopOptions<R>): Promise<void> {
  const { run } = o;
  const persistAndSave = async () => {
    await o.persist?.();
    await o.save();
  };
  while (run.tau < o.hyperIterations) {
    const tau = run.tau;
    if (o.stop) {
      await stopIfRequested(o.stop.signal, persistAndSave, {
        dir: o.stop.dir,
        resumeCommand: o.stop.resumeCommand,
        where: `${o.stop.label ? o.stop.label + ', ' : ''}after ${tau} of ${o.hyperIterations} hyper-iterations`,
      });
    }
    let timed: number | undefined;
    const time: Timer = async (work) => {
      await sync();
      const t0 = performance.now();
      const result = await work();
      await sync();
      timed = (timed ?? 0) + (performance.now() - t0) / 1000;
      return result;
    };
    const t0 = performance.now();
    const note = await o.step(tau, time);
    run.seconds.push(timed ?? (performance.now() - t0) / 1000);
    run.tau = tau + 1;
    o.progress?.tick(1, note ?? undefined);
    if (run.tau % o.checkpointEvery === 0 && run.tau < o.hyperIterations) await persistAndSave();
  }
}
