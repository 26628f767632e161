// Evaluation of a meta-trained lambda (section 4.3): the mean accuracy on Q over tasks sampled
// from the meta-test classes, each solved by the inner problem from S, with a 95% confidence
// interval; and the seeds that make every sampled task reproducible (so a resumed run samples
// the same tasks, and every method is evaluated on the same ones).
import type { Hyper } from './omniglot-net.js';
import { disposeTask, evaluateTask, taskToDevice, type InnerSettings, type TaskArrays } from './omniglot-problem.js';
import { mulberry32 } from '../data/random.js';
import { ci95, mean } from './shared/stats.js';

/** Mean and the half-width of the normal 95% interval of the mean, 1.96 s / sqrt(n) (s: sample standard deviation; NaN for one value). */
export function meanAndCI95(xs: readonly number[]): { mean: number; ci95: number } {
  if (xs.length === 0) throw new Error('meanAndCI95: no values');
  return { mean: mean(xs), ci95: xs.length === 1 ? NaN : ci95(xs) };
}

/** A seed for one purpose, mixed from the run's seed and integers (FNV-1a over their bytes). */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const v of [seed, ...parts]) {
    for (let b = 0; b < 4; b++) {
      h ^= (v >>> (8 * b)) & 0xff;
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}

/** Draws task number `i` of a stream (a fresh generator per task, so any one can be redrawn alone). */
export type TaskSampler = (random: () => number) => TaskArrays;

/** Task i of the stream `stream` under `seed`. */
export function drawTask(sample: TaskSampler, seed: number, stream: number, i: number): TaskArrays {
  return sample(mulberry32(deriveSeed(seed, stream, i)));
}

/** Stream numbers: meta-training tasks, test tasks, and the tasks of Figure 7's last plot. */
export const STREAM = { train: 1, test: 2, curve: 3 } as const;

/** The accuracy of one lambda over the test tasks. */
export interface Evaluation {
  /** Mean accuracy on Q over the tasks. */
  accuracy: number;
  /** Half-width of its 95% confidence interval. */
  ci95: number;
  /** Mean cross-entropy on Q. */
  loss: number;
  tasks: number;
}

/** Accuracy of lambda on `n` test tasks (the same n tasks for every lambda with one seed). */
export async function evaluate(sample: TaskSampler, hyper: Hyper, s: InnerSettings, n: number, seed: number): Promise<Evaluation> {
  const accs: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < n; i++) {
    const task = taskToDevice(drawTask(sample, seed, STREAM.test, i));
    try {
      const r = await evaluateTask(task, hyper, s);
      accs.push(r.accuracy);
      losses.push(r.loss);
    } finally {
      disposeTask(task);
    }
  }
  const acc = meanAndCI95(accs);
  return { accuracy: acc.mean, ci95: acc.ci95, loss: mean(losses), tasks: n };
}
