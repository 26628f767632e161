// The saved state of a hypercleaning run (state.json in the output folder, see
// ./shared/state.ts): per K, the hyper-iterations done, lambda_tau, the series of the figures and
// the timings; once a K is finished, its final metrics. The final lambda of every K stays in the
// file, from which the flags (and F1) of Table 2 can be recomputed. The declaration below is what
// `--resume` validates the file against.
import * as s from './shared/schema.js';
import { defineState, hyperRunFields, loadState as loadSharedState, type ExperimentState, type HyperRun } from './shared/state.js';

export { STATE_FILE } from './shared/state.js';

/** Accuracy and loss of one classifier W_T. */
export interface ClassifierMetrics {
  testAcc: number;
  valAcc: number;
  valLoss: number;
}

/** The metrics of Table 2 for one K, at the final lambda. */
export interface FinalMetrics extends ClassifierMetrics {
  f1: number;
  precision: number;
  recall: number;
  /** Examples flagged as corrupted (lambda_i < -3). */
  flagged: number;
}

/** A classifier trained with all weights 1 at the largest stable inner step (see trainStably). */
export interface StableBaseline extends ClassifierMetrics {
  /** The step it was trained with: gamma / 2^halvings. */
  gamma: number;
  halvings: number;
}

/**
 * Classifiers trained with fixed weights: all 1 at the run's gamma (unstable at gamma = 1: kept
 * with its explanation), all 1 at the largest stable step (the no-cleaning baseline), all
 * sigmoid(lambda0), clean examples only.
 */
export interface References {
  baseline: ClassifierMetrics;
  /** Absent in states saved before it existed; a resumed run computes it. */
  baselineStable?: StableBaseline;
  initial: ClassifierMetrics;
  oracle: ClassifierMetrics;
}

/** One K-RMD run. */
export interface RunState extends HyperRun {
  K: number;
  /** lambda_tau (one per training example). */
  lambda: number[];
  /** f(w_T(lambda_tau), lambda_tau) for tau = 0 .. tau-1, as returned with each hypergradient. */
  valLoss: number[];
  /** ||d_lambda f|| of the exact hypergradient (full RMD) at sampled iterates (Figure 5). */
  exactGradNorm: { tau: number; norm: number }[];
  /** F1, precision and recall of the flags at lambda_tau for tau = 0 .. tau-1 (F1 vs hyper-iteration). */
  f1History: number[];
  /** See f1History. */
  precisionHistory: number[];
  /** See f1History. */
  recallHistory: number[];
  /** Set once the run has finished its hyper-iterations and been evaluated. */
  final?: FinalMetrics;
}

/** The settings a hypercleaning state is checked against (the options that change the numbers). */
export interface HypercleaningStateSettings {
  nTrain: number;
  T: number;
  K: number[];
  hyperIterations: number;
}

/** The top-level fields besides the header and the runs. */
export interface HypercleaningExtra {
  /** Computed once at the start of a run. */
  references?: References;
}

/** The whole state file. */
export type HypercleaningState = ExperimentState<RunState, HypercleaningExtra>;

const fraction = s.number({ min: 0, max: 1 });
const classifier = s.object({ testAcc: fraction, valAcc: fraction, valLoss: s.number({ min: 0, nullable: true }) });

/** The declaration of hypercleaning's state.json (what --resume checks). */
export const hypercleaningState = defineState<HypercleaningStateSettings, RunState, HypercleaningExtra>({
  experiment: 'hypercleaning',
  version: 2,
  run: (o) => s.object({
    K: s.int({ min: 1, max: o.T }),
    ...hyperRunFields(o.hyperIterations),
    lambda: s.numbers({ length: o.nTrain }),
    valLoss: s.numbers({ length: (run: { tau: number }) => run.tau, nullable: true }),
    f1History: s.numbers({ length: (run: { tau: number }) => run.tau }),
    precisionHistory: s.numbers({ length: (run: { tau: number }) => run.tau }),
    recallHistory: s.numbers({ length: (run: { tau: number }) => run.tau }),
    exactGradNorm: s.array(s.object({ tau: s.int({ min: 0, max: o.hyperIterations }), norm: s.number({ min: 0, nullable: true }) })),
    final: s.optional(s.object({
      testAcc: fraction, valAcc: fraction, valLoss: s.number({ min: 0, nullable: true }),
      f1: fraction, precision: fraction, recall: fraction, flagged: s.int({ min: 0, max: o.nTrain }),
    })),
  }, {
    refine: (run) => {
      const late = run.exactGradNorm.findIndex((p, i) => p.tau > run.tau || (i > 0 && p.tau <= run.exactGradNorm[i - 1]!.tau));
      if (late >= 0) return [`exactGradNorm[${late}].tau`, String(run.exactGradNorm[late]!.tau), `increasing iterates at most tau = ${run.tau}`];
      if (run.final && run.tau !== o.hyperIterations) return ['tau', String(run.tau), `${o.hyperIterations} (the run has final metrics, so it finished its hyper-iterations)`];
      return undefined;
    },
  }),
  extra: () => ({
    references: s.optional(s.object({
      baseline: classifier,
      baselineStable: s.optional(s.object({ testAcc: fraction, valAcc: fraction, valLoss: s.number({ min: 0, nullable: true }), gamma: s.number({ min: 0 }), halvings: s.int({ min: 0 }) })),
      initial: classifier,
      oracle: classifier,
    })),
  }),
  maxRuns: (o) => o.K.length,
  checkRuns: (runs, o) => {
    for (let i = 0; i < runs.length; i++) {
      const K = runs[i]!.K;
      if (!o.K.includes(K) || runs.findIndex((r) => r.K === K) !== i) {
        return [`runs[${i}].K`, String(K), `one of the run's K values ${o.K.join(', ')}, each at most once`];
      }
    }
    return undefined;
  },
});

/** Reads and validates DIR/state.json against the settings saved in it (for tools and tests). */
export function loadState(dir: string): HypercleaningState {
  return loadSharedState(hypercleaningState, dir);
}
