// The saved state of a task-interaction run (state.json in the output folder, see
// ./shared/state.ts): one record per data set, trial and K (K = 0 is the C = 0 reference, which
// tunes rho alone), each with its hyper-iterations done, lambda_tau, Adam's moments, the early
// stopping bookkeeping (best iterate so far), the series of Figure 6 and, once finished, the
// metrics at the best iterate. The declaration below is what `--resume` validates the file against.
import * as s from './shared/schema.js';
import { defineState, hyperRunFields, loadState as loadSharedState, type ExperimentState, type HyperRun } from './shared/state.js';
import type { AdamState } from '../bilevel/index.js';
import type { InnerStability } from './task-interaction-stability.js';

export { STATE_FILE } from './shared/state.js';

/** lambda as plain numbers: theta [V, V] row-major (empty for the C = 0 reference) and log rho. */
export interface SavedLambda {
  theta: number[];
  logRho: number;
}

/** Metrics of W_T at a run's final (best) lambda. */
export interface TaskFinal {
  testAcc: number;
  valAcc: number;
  valLoss: number;
  rho: number;
  /** The C = 0 reference only: is its inner loop stable at the kept rho (task-interaction-stability.ts)? */
  stability?: InnerStability;
}

/** One exact-hypergradient sample of Figure 6. */
export interface ExactSample {
  tau: number;
  /** ||d_lambda f|| (full RMD). */
  norm: number;
  /** cos(h_{T-K}, d_lambda f) of the hypergradient this run stepped with. */
  cosine: number;
}

/** One run: a data set, a trial, a K (0: the C = 0 reference). */
export interface TaskRun extends HyperRun {
  dataset: string;
  trial: number;
  K: number;
  lambda: SavedLambda;
  adam: AdamState;
  /** The iterate with the lowest validation loss so far (early stopping returns it). */
  best: SavedLambda & { tau: number; valLoss: number };
  /** f(w_T(lambda_tau)) for tau = 0 .. tau-1. */
  valLoss: number[];
  /** Figure 6's samples (trial 0 only). */
  exact: ExactSample[];
  /** Set once the run has stopped (early or at --hyper-iterations) and been evaluated. */
  final?: TaskFinal;
}

/** The options a saved state is checked against. */
export interface TaskStateSettings {
  datasets: string[];
  K: number[];
  T: number;
  trials: number;
  hyperIterations: number;
}

/** The whole state file. */
export type TaskInteractionState = ExperimentState<TaskRun, {}>;

const lambdaFields = {
  theta: s.numbers(),
  logRho: s.number(),
};
const moments = s.nullable(s.array(s.numbers()));

/** The declaration of task-interaction's state.json (what --resume checks). */
export const taskInteractionState = defineState<TaskStateSettings, TaskRun>({
  experiment: 'task-interaction',
  version: 1,
  run: (o) => s.object({
    dataset: s.string(o.datasets),
    trial: s.int({ min: 0, max: o.trials - 1 }),
    K: s.int({ min: 0, max: o.T }),
    ...hyperRunFields(o.hyperIterations),
    lambda: s.object(lambdaFields),
    adam: s.object({ tau: s.int({ min: 0 }), m: moments, v: moments }),
    best: s.object({ ...lambdaFields, tau: s.int({ min: 0, max: o.hyperIterations }), valLoss: s.number({ nullable: true }) }),
    valLoss: s.numbers({ length: (run: { tau: number }) => run.tau, nullable: true }),
    exact: s.array(s.object({ tau: s.int({ min: 0, max: o.hyperIterations }), norm: s.number({ min: 0, nullable: true }), cosine: s.number({ min: -1.0001, max: 1.0001, nullable: true }) })),
    final: s.optional(s.object({
      testAcc: s.number({ min: 0, max: 1 }), valAcc: s.number({ min: 0, max: 1 }), valLoss: s.number({ min: 0, nullable: true }), rho: s.number({ min: 0 }),
      stability: s.optional(s.object({
        lambdaMaxGram: s.number({ min: 0 }), gammaL: s.number({ min: 0 }), lossIncreases: s.int({ min: 0, max: o.T }),
        lossStart: s.number({ nullable: true }), lossEnd: s.number({ nullable: true }),
      })),
    })),
  }),
  maxRuns: (o) => o.datasets.length * o.trials * (o.K.length + 1),
  checkRuns: (runs, o) => {
    const seen = new Set<string>();
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i]!;
      const key = `${r.dataset}/${r.trial}/${r.K}`;
      if ((r.K !== 0 && !o.K.includes(r.K)) || seen.has(key)) {
        return [`runs[${i}].K`, String(r.K), `0 (the C = 0 reference) or one of the run's K values ${o.K.join(', ')}, once per data set and trial`];
      }
      seen.add(key);
    }
    return undefined;
  },
});

/** Reads and validates DIR/state.json against the settings saved in it (for tools and tests). */
export function loadTaskState(dir: string): TaskInteractionState {
  return loadSharedState(taskInteractionState, dir);
}
