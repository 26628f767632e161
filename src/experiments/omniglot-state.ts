// The saved state of an omniglot run (state.json in the output folder, see ./shared/state.ts):
// per method, the hyper-iterations done, lambda_tau with Adam's moments (all flattened in the
// order of lambda's leaves), the series of Figure 7 and the timings; once a method is finished,
// its test accuracy. Top level: the accuracy of lambda left at its initial value, and Figure 7's
// truncation-error curves once computed. The declaration below is what --resume validates.
import * as s from './shared/schema.js';
import { defineState, hyperRunFields, loadState as loadSharedState, type ExperimentState, type HyperRun } from './shared/state.js';

export { STATE_FILE } from './shared/state.js';

/** Accuracy on Q over the test tasks. */
export interface TestPoint {
  tau: number;
  accuracy: number;
  ci95: number;
  loss: number;
}

/** One method's run (one row of Table 4). */
export interface OmniglotRun extends HyperRun {
  /** The method as listed in --methods: a K, 'full' or 'short'. */
  method: string;
  /** Truncation depth (T for full RMD and the short horizon). */
  K: number;
  /** Horizon (1 for the short horizon). */
  T: number;
  /** lambda_tau, flattened. */
  lambda: number[];
  /** Adam's moments, flattened like lambda (empty before the first step). */
  adamM: number[];
  adamV: number[];
  /** f on Q of the task of each hyper-iteration tau = 0..tau-1. */
  valLoss: number[];
  /** Test accuracy at sampled iterates (tau = 0 is lambda's initial value, shared by every method). */
  test: TestPoint[];
  /** Cosine similarity of this method's hypergradient with full RMD's on the same task, at sampled iterates. */
  cosine: { tau: number; cos: number }[];
  /** Set once the run has finished its hyper-iterations and been evaluated. */
  final?: TestPoint;
}

/** The settings a state is checked against (the options that change the numbers). */
export interface OmniglotStateSettings {
  hyperIterations: number;
  T: number;
}

/** Figure 7's last plot: ||h_{T-K} - d f|| / ||d f|| for K = 1..T, with and without the pull. */
export interface TruncationCurves {
  /** Which run's final lambda they were computed at. */
  method: string;
  regularised: number[];
  unregularised: number[];
}

/** The top-level fields besides the header and the runs. */
export interface OmniglotExtra {
  /** lambda at its initial value (no meta-training), on the test tasks. */
  initial?: TestPoint;
  /** The short horizon's T = 1 network at the initial lambda (its own reference). */
  initialShort?: TestPoint;
  curves?: TruncationCurves;
}

/** The whole state file. */
export type OmniglotState = ExperimentState<OmniglotRun, OmniglotExtra>;

const point = (maxTau: number) => s.object({
  tau: s.int({ min: 0, max: maxTau }),
  accuracy: s.number({ min: 0, max: 1 }),
  ci95: s.number({ min: 0, nullable: true }),
  loss: s.number({ nullable: true }),
});

/** The declaration of omniglot's state.json (what --resume checks). */
export const omniglotState = defineState<OmniglotStateSettings, OmniglotRun, OmniglotExtra>({
  experiment: 'omniglot',
  version: 1,
  run: (o) => s.object({
    method: s.string(),
    K: s.int({ min: 1, max: o.T }),
    T: s.int({ min: 1, max: o.T }),
    ...hyperRunFields(o.hyperIterations),
    lambda: s.numbers(),
    adamM: s.numbers(),
    adamV: s.numbers(),
    valLoss: s.numbers({ length: (run: { tau: number }) => run.tau, nullable: true }),
    test: s.array(point(o.hyperIterations)),
    cosine: s.array(s.object({ tau: s.int({ min: 0, max: o.hyperIterations }), cos: s.number({ min: -1.0001, max: 1.0001, nullable: true }) })),
    final: s.optional(point(o.hyperIterations)),
  }, {
    refine: (run) => {
      if (run.adamM.length !== run.adamV.length || (run.adamM.length && run.adamM.length !== run.lambda.length)) {
        return ['adamM', `${run.adamM.length} values (adamV ${run.adamV.length})`, `none, or as many as lambda (${run.lambda.length})`];
      }
      if (run.final && run.tau !== o.hyperIterations) return ['tau', String(run.tau), `${o.hyperIterations} (the run has final metrics, so it finished its hyper-iterations)`];
      return undefined;
    },
  }),
  extra: (o) => ({
    initial: s.optional(point(o.hyperIterations)),
    initialShort: s.optional(point(o.hyperIterations)),
    curves: s.optional(s.object({ method: s.string(), regularised: s.numbers({ length: o.T }), unregularised: s.numbers({ length: o.T }) })),
  }),
});

/** Reads and validates DIR/state.json against the settings saved in it (for tools and tests). */
export function loadState(dir: string): OmniglotState {
  return loadSharedState(omniglotState, dir);
}
