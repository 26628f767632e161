// Table 3, Figure 6 and the learned C of `hypertape task-interaction`, from its saved state:
// results.json's body, summary.md's tables and the SVG figures.
import type { ImageDataset } from '../data/cifar.js';
import type { TaskInteractionState, TaskRun, ExactSample } from './task-interaction-state.js';
import type { InnerStability } from './task-interaction-stability.js';
import type { TaskInteractionOptions } from './task-interaction.js';
import { mean, median, std } from './shared/stats.js';
import { perClassCounts } from './task-interaction-data.js';
import { formatNumber, heatMap, lineChart, markdownTable, sideBySide, type Figure } from './report.js';

/** Table 3: one row per data set and K, over the finished trials. */
export interface Table3Row {
  dataset: string;
  K: number;
  /** Finished trials the row averages. */
  trials: number;
  testAccMean: number;
  testAccStd: number;
  valAccMean: number;
  /** Validation loss of W_T at the kept lambda, mean over trials. */
  valLossMean: number;
  /** Hyper-iterations until the stopping rule ended the run, mean over trials. */
  hyperIters: number;
  /** Seconds per hyper-iteration (hypergradient + Adam step), mean over every one of every trial. */
  secPerHyperiter: number;
  /** Median of the same: robust to load spikes on a shared machine. */
  secPerHyperiterMedian: number;
  /** Largest peak GPU bytes a hypergradient call allocated above what was live before it. */
  peakBytes: number;
  peakBytesTotal: number;
}

/** The C = 0 reference of a data set (rho tuned by the same loop). */
export interface BaselineRow {
  dataset: string;
  trials: number;
  testAccMean: number;
  testAccStd: number;
  valLossMean: number;
  hyperIters: number;
  rhoMean: number;
  /** Whether its inner loop is stable at the kept rho, per trial (absent in files written before the check). */
  stability?: BaselineStability;
}

/** The stability checks of the C = 0 reference (task-interaction-stability.ts), one entry per trial. */
export interface BaselineStability {
  /** How the checks work, in words. */
  how: string;
  /** gamma L, L = lambda_max(X^T X / n) / 2 + 2 rho: a bound on the Hessian of g; under 2 every step decreases g. */
  gammaL: number[];
  lambdaMaxGram: number[];
  /** Steps at which g(W_t) went up along the T steps (0: monotone). */
  lossIncreases: number[];
  /** Every gammaL < 2 and no step increased g. */
  stable: boolean;
}

/** The C = 0 reference's stability over its trials, or undefined when the runs predate the check. */
function baselineStability(refs: TaskRun[]): BaselineStability | undefined {
  const checks = refs.map((r) => r.final!.stability);
  if (!checks.length || checks.some((c) => !c)) return undefined;
  const c = checks as InnerStability[];
  return {
    how: 'gamma L < 2 with L = lambda_max(X^T X / n) / 2 + 2 rho bounding the Hessian of g (softmax CE: at most 1/2 in the logits), so every GD step decreases g; and g(W_t) read back at every one of the T steps',
    gammaL: c.map((x) => x.gammaL),
    lambdaMaxGram: c.map((x) => x.lambdaMaxGram),
    lossIncreases: c.map((x) => x.lossIncreases),
    stable: c.every((x) => x.gammaL < 2 && x.lossIncreases === 0),
  };
}

/** Figure 6's series of one data set (trial 0). */
export interface Figure6Series {
  dataset: string;
  K: number;
  /** f(lambda_tau), tau = 0, 1, ... */
  valLoss: number[];
  exact: ExactSample[];
}

/** The learned C of one data set (trial 0, largest K), diagonal left out (it never enters g). */
export interface LearnedC {
  dataset: string;
  K: number;
  classNames: string[];
  /** Row-major [V, V]; the diagonal is null. */
  C: (number | null)[][];
  rho: number;
}

/** results.json's body. */
export interface TaskInteractionResults {
  problem: {
    datasets: { name: string; source: string; classes: number; trainPerClass: number; valPerClass: number; nTest: number }[];
    features: string;
    featureNorm: number;
    T: number; gamma: number; K: number[]; trials: number;
    stopping: { maxHyperIterations: number; patience: number; minDelta: number };
    outer: { optimizer: 'Adam'; lr: number; c0: number; rho0: number; parametrization: string };
    dataFingerprint: string | undefined;
  };
  table: Table3Row[];
  /** Test accuracy of the C = 0 reference, mean over trials, by data set name. */
  baselineTestAcc: Record<string, number>;
  baseline: BaselineRow[];
  figure6: { exactEvery: number; series: Figure6Series[] };
  learnedC: LearnedC[];
  /** Where every run's final lambda is. */
  finalLambda: string;
}

function finishedRuns(state: TaskInteractionState, dataset: string, K: number): TaskRun[] {
  return state.runs.filter((r) => r.dataset === dataset && r.K === K && r.final);
}

/** Everything of Table 3 and Figure 6 that the state holds (finished trials in the tables). */
export function taskInteractionResults(o: TaskInteractionOptions, state: TaskInteractionState, images: ImageDataset[]): TaskInteractionResults {
  const datasets = state.settings.datasets as string[];
  const table: Table3Row[] = [];
  const baseline: BaselineRow[] = [];
  const learnedC: LearnedC[] = [];
  const series: Figure6Series[] = [];
  datasets.forEach((name, i) => {
    for (const K of o.K) {
      const runs = finishedRuns(state, name, K);
      if (!runs.length) continue;
      const acc = runs.map((r) => r.final!.testAcc);
      const seconds = runs.flatMap((r) => r.seconds);
      table.push({
        dataset: name, K, trials: runs.length,
        testAccMean: mean(acc), testAccStd: std(acc), valAccMean: mean(runs.map((r) => r.final!.valAcc)), valLossMean: mean(runs.map((r) => r.final!.valLoss)),
        hyperIters: mean(runs.map((r) => r.tau)), secPerHyperiter: mean(seconds), secPerHyperiterMedian: median(seconds),
        peakBytes: Math.max(...runs.map((r) => r.peakBytes)), peakBytesTotal: Math.max(...runs.map((r) => r.peakBytesTotal)),
      });
    }
    const refs = finishedRuns(state, name, 0);
    if (refs.length) {
      const acc = refs.map((r) => r.final!.testAcc);
      baseline.push({
        dataset: name, trials: refs.length, testAccMean: mean(acc), testAccStd: std(acc),
        valLossMean: mean(refs.map((r) => r.final!.valLoss)), hyperIters: mean(refs.map((r) => r.tau)), rhoMean: mean(refs.map((r) => r.final!.rho)),
      });
      const stability = baselineStability(refs);
      if (stability) baseline[baseline.length - 1]!.stability = stability;
    }
    for (const r of state.runs) {
      if (r.dataset === name && r.trial === 0 && r.K > 0) series.push({ dataset: name, K: r.K, valLoss: r.valLoss, exact: r.exact });
    }
    const shown = [...o.K].sort((a, b) => b - a).map((K) => state.runs.find((r) => r.dataset === name && r.trial === 0 && r.K === K && r.final)).find((r) => r);
    if (shown) {
      const V = images[i]!.classNames.length;
      const th = shown.best.theta;
      const C = Array.from({ length: V }, (_, a) => Array.from({ length: V }, (_, b) => (a === b ? null : Math.exp((th[a * V + b]! + th[b * V + a]!) / 2))));
      learnedC.push({ dataset: name, K: shown.K, classNames: images[i]!.classNames, C, rho: shown.final!.rho });
    }
  });
  return {
    problem: {
      datasets: datasets.map((name, i) => {
        const d = images[i]!;
        const sizes = perClassCounts(o.trainPerClass, o.valPerClass, name);
        return { name, source: d.source, classes: d.classNames.length, ...sizes, nTest: d.test.n };
      }),
      features: o.features || 'pixels',
      featureNorm: o.featureNorm,
      T: o.T, gamma: o.gamma, K: o.K, trials: o.trials,
      stopping: { maxHyperIterations: o.hyperIterations, patience: o.patience, minDelta: o.minDelta },
      outer: { optimizer: 'Adam', lr: o.outerLr, c0: o.c0, rho0: o.rho0, parametrization: 'C = exp((theta + theta^T) / 2), rho = exp(logRho)' },
      dataFingerprint: state.dataFingerprint,
    },
    table,
    baselineTestAcc: Object.fromEntries(baseline.map((b) => [b.dataset, b.testAccMean])),
    baseline,
    figure6: { exactEvery: o.exactEvery, series },
    learnedC,
    finalLambda: 'state.json (runs[].best: theta and logRho, one per data set, trial and K; K = 0 is the C = 0 reference)',
  };
}

const label = (K: number, T: number) => (K === T ? 'Full RMD' : `${K}-RMD`);
const NAMES: Record<string, string> = { cifar10: 'CIFAR-10', cifar100: 'CIFAR-100' };
const pct = (x: number) => (100 * x).toFixed(2);

/** summary.md's body: Table 3 laid out like the paper's, with the C = 0 reference under each data set. */
export function taskInteractionSummary(o: TaskInteractionOptions, r: TaskInteractionResults): string {
  const rows: (string | number)[][] = [];
  for (const d of r.problem.datasets) {
    for (const row of r.table.filter((x) => x.dataset === d.name)) {
      rows.push([NAMES[d.name] ?? d.name, label(row.K, o.T), `${pct(row.testAccMean)} ± ${pct(row.testAccStd)}`, Number(row.hyperIters.toFixed(1)),
        `${formatNumber(row.secPerHyperiter, 3)} (${formatNumber(row.secPerHyperiterMedian, 3)})`, Number(row.valLossMean.toFixed(4)), Number((row.peakBytes / 2 ** 20).toPrecision(3))]);
    }
    const b = r.baseline.find((x) => x.dataset === d.name);
    if (b) rows.push([NAMES[d.name] ?? d.name, 'C = 0 (ρ tuned)', `${pct(b.testAccMean)} ± ${pct(b.testAccStd)}`, Number(b.hyperIters.toFixed(1)), '', Number(b.valLossMean.toFixed(4)), '']);
  }
  const sets = r.problem.datasets.map((d) => `${NAMES[d.name] ?? d.name} (${d.source}): ${d.trainPerClass} training + ${d.valPerClass} validation images per class, ${d.nTest} test images`).join('; ');
  return [
    `${sets}. Features: ${r.problem.features}, standardized, RMS norm ${o.featureNorm}, plus a bias. T = ${o.T} GD steps with γ = ${o.gamma}. ` +
      `Adam (step ${o.outerLr}) on C = exp((θ + θᵀ)/2) and ρ = exp(log ρ) from C_ij = ${o.c0}, ρ = ${o.rho0}; early stopping after ${o.patience} hyper-iterations without a validation-loss improvement of ${o.minDelta} (at most ${o.hyperIterations}), keeping the best λ. ${o.trials} trials.`,
    '',
    '## Table 3: test accuracy for task interaction',
    '',
    markdownTable(['', 'Method', 'Avg. Acc. (%)', 'Avg. Iter.', 'Sec/iter.: mean (median)', 'Val. loss', 'peak GPU MiB'], rows),
    '',
    'Avg. Acc.: mean ± standard deviation over the trials of the test accuracy of W_T at the kept λ. Avg. Iter.: hyper-iterations until the stopping rule ended the run. ' +
      'Val. loss: the validation cross-entropy there (the outer objective; the C = 0 row is the reference learned C should beat). Peak GPU MiB: the most one hypergradient allocated above what was live before it.',
    ...r.baseline.flatMap((b) => (b.stability ? ['', stabilitySentence(NAMES[b.dataset] ?? b.dataset, o, b.stability)] : [])),
  ].join('\n');
}

/** One sentence on whether a data set's C = 0 reference was trained stably, with the numbers that decide it. */
function stabilitySentence(name: string, o: TaskInteractionOptions, s: BaselineStability): string {
  const range = (xs: number[]) => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return lo === hi ? formatNumber(lo, 3) : `${formatNumber(lo, 3)}-${formatNumber(hi, 3)}`;
  };
  return `**Is the C = 0 reference (${name}) trained stably?** ${s.stable ? 'Yes' : '**No**'}: at its kept ρ, γL = ${range(s.gammaL)} ` +
    `(${s.gammaL.every((x) => x < 2) ? 'under 2 in every trial' : 'not under 2 in every trial'}), where L = λ_max(XᵀX/n)/2 + 2ρ bounds the Hessian of g ` +
    `(λ_max(XᵀX/n) = ${range(s.lambdaMaxGram)}; the softmax cross-entropy's Hessian in the logits is at most ½), so every step of size γ = ${o.gamma} decreases g; ` +
    `and g(W_t), read back at each of the T = ${o.T} steps, went up at ${range(s.lossIncreases)} step(s).`;
}

/** Figure 6 (one SVG per data set: validation loss, ||d_λ f||, cosine) and the learned C. */
export function taskInteractionFigures(o: TaskInteractionOptions, r: TaskInteractionResults): Figure[] {
  const order = o.K.map((k) => label(k, o.T));
  const figures: Figure[] = [];
  for (const d of r.problem.datasets) {
    const series = r.figure6.series.filter((s) => s.dataset === d.name);
    if (!series.length) continue;
    const name = NAMES[d.name] ?? d.name;
    const K = (s: Figure6Series) => label(s.K, o.T);
    figures.push({
      name: `figure6-${d.name}`,
      title: `Figure 6 (${name}): validation loss, ||d_λ f|| and cos(h_{T−K}, d_λ f) vs. hyper-iteration`,
      caption: `Trial 0 of ${name}. Left: the upper-level objective at every iterate of each K-RMD run. Middle: the norm of the exact hypergradient (full RMD) at the iterates, every ${r.figure6.exactEvery} hyper-iterations (log scale). Right: the cosine between the K-RMD hypergradient the run stepped with and the exact one (1 for full RMD).`,
      grammar: 'vega-lite',
      spec: sideBySide(`Figure 6: ${name}`, [
        lineChart({
          title: 'Upper-level (validation) loss',
          rows: series.flatMap((s) => s.valLoss.map((v, tau) => ({ tau, loss: v, K: K(s) }))),
          x: { field: 'tau', title: 'hyper-iteration' }, y: { field: 'loss', title: 'f' }, series: { field: 'K', title: 'method', sort: order }, width: 260, height: 200,
        }),
        lineChart({
          title: 'Norm of the exact hypergradient',
          rows: series.flatMap((s) => s.exact.map((e) => ({ tau: e.tau, norm: e.norm, K: K(s) }))),
          x: { field: 'tau', title: 'hyper-iteration' }, y: { field: 'norm', title: '||d_λ f||', log: true }, series: { field: 'K', title: 'method', sort: order }, points: true, width: 260, height: 200,
        }),
        lineChart({
          title: 'cos(h_{T−K}, d_λ f)',
          rows: series.flatMap((s) => s.exact.map((e) => ({ tau: e.tau, cosine: e.cosine, K: K(s) }))),
          x: { field: 'tau', title: 'hyper-iteration' }, y: { field: 'cosine', title: 'cosine similarity' }, series: { field: 'K', title: 'method', sort: order }, points: true, rule: 0, width: 260, height: 200,
        }),
      ]),
    });
  }
  for (const c of r.learnedC) {
    const name = NAMES[c.dataset] ?? c.dataset;
    figures.push({
      name: `learned-c-${c.dataset}`,
      title: `Learned task similarity C (${name})`,
      caption: `C at the kept λ of trial 0's ${label(c.K, o.T)} run (ρ = ${formatNumber(c.rho, 3)}); the diagonal never enters g and is left blank. Large C_ij pulls the models of classes i and j together.`,
      grammar: 'vega-lite',
      spec: heatMap({
        title: `Learned C, ${name} (${label(c.K, o.T)})`,
        rows: c.C.flatMap((row, i) => row.flatMap((v, j) => (v === null ? [] : [{ x: c.classNames[j]!, y: c.classNames[i]!, value: v }]))),
        order: c.classNames,
        xTitle: 'class j', yTitle: 'class i', valueTitle: 'C_ij',
      }),
    });
  }
  return figures;
}
