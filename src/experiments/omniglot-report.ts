// Table 4 and Figure 7 of `hypertape omniglot` from its state: results.json's body, summary.md's
// tables, and the figures' specs.
import { formatNumber, lineChart, markdownTable, type Figure } from './report.js';
import { hyperSize } from './omniglot-net.js';
import { mean, median } from './shared/stats.js';
import type { OmniglotState, OmniglotRun, TestPoint, TruncationCurves } from './omniglot-state.js';
import type { OmniglotSet } from '../data/omniglot-format.js';
import type { MethodSpec, OmniglotOptions } from './omniglot.js';

/** One row of Table 4. */
export interface Table4Row {
  /** The method as listed in --methods (a K, full, short). */
  method: string;
  K: number;
  T: number;
  testAcc: number;
  /** Half-width of the 95% confidence interval of testAcc. */
  testAccCI95: number;
  testLoss: number;
  hyperIters: number;
  /** Mean seconds per hyper-iteration (hypergradient and Adam step). */
  secPerHyperiter: number;
  /** Median: robust to load spikes on a shared machine. */
  secPerHyperiterMedian: number;
  /** Peak GPU bytes one hypergradient allocated above what was live before it. */
  peakBytes: number;
  peakBytesTotal: number;
}

/** results.json's body. */
export interface OmniglotResults {
  problem: {
    k: number; queries: number; T: number; filters: number; size: number; hyperIterations: number; evalTasks: number;
    lambdaValues: number; outer: { optimizer: 'Adam'; lr: number }; rho0: number; gamma0: number;
    dataFingerprint: string | undefined;
    /** The meta-training and meta-test classes (absent in files written before it was recorded). */
    splits?: { metaTraining: OmniglotSplit; metaTest: OmniglotSplit };
  };
  /** Table 4: one row per finished method. */
  table: Table4Row[];
  /** The network with lambda left at its initial value (T inner steps; and T = 1 when the short horizon runs). */
  initial: { testAcc: number; testAccCI95: number; testLoss: number } | null;
  initialShort: { testAcc: number; testAccCI95: number; testLoss: number } | null;
  figure7: {
    /** Test accuracy at sampled hyper-iterations (tau = 0: the initial lambda). */
    accuracy: { method: string; tau: number[]; accuracy: number[]; ci95: number[] }[];
    /** f on each hyper-iteration's task. */
    validationLoss: { method: string; values: number[] }[];
    cosine: { method: string; tau: number[]; cos: number[] }[];
    truncation: TruncationCurves | null;
  };
}

/** One split of Omniglot as results.json records it. */
export interface OmniglotSplit {
  /** The zip's file name (the folder is the machine's, so it is left out). */
  file: string;
  alphabets: number;
  characters: number;
  /** Classes: characters at each rotation. */
  classes: number;
  /** Alphabets left out because the other split holds them too (meta-test only). */
  droppedAlphabets: string[];
}

/** What results.json says about a split read by src/data/omniglot.ts. */
export function describeSplit(set: OmniglotSet): OmniglotSplit {
  const path = set.source.replace(/ \(\d+x\d+, .*$/, '');
  const dropped = /without the alphabets also in meta-training: (.*)$/.exec(set.source)?.[1];
  return {
    file: path.split(/[\\/]/).pop() ?? path,
    alphabets: new Set(set.classes.map((c) => c.alphabet)).size,
    characters: new Set(set.classes.map((c) => `${c.alphabet}/${c.character}`)).size,
    classes: set.classes.length,
    droppedAlphabets: dropped ? dropped.split(', ') : [],
  };
}

const asRow = (p: TestPoint | undefined) => (p ? { testAcc: p.accuracy, testAccCI95: p.ci95, testLoss: p.loss } : null);

function row(r: OmniglotRun): Table4Row {
  return {
    method: r.method, K: r.K, T: r.T,
    testAcc: r.final!.accuracy, testAccCI95: r.final!.ci95, testLoss: r.final!.loss,
    hyperIters: r.tau,
    secPerHyperiter: mean(r.seconds), secPerHyperiterMedian: median(r.seconds),
    peakBytes: r.peakBytes, peakBytesTotal: r.peakBytesTotal,
  };
}

/** Table 4 and Figure 7's series from the state (finished runs in the table). */
export function omniglotResults(o: OmniglotOptions, state: OmniglotState, methods: MethodSpec[], splits?: { train: OmniglotSet; test: OmniglotSet }): OmniglotResults {
  const order = (r: OmniglotRun) => methods.findIndex((m) => m.name === r.method);
  const runs = [...state.runs].sort((a, b) => order(a) - order(b));
  return {
    problem: {
      k: o.k, queries: o.queries, T: o.T, filters: o.filters, size: o.size, hyperIterations: o.hyperIterations, evalTasks: o.evalTasks,
      lambdaValues: hyperSize({ k: o.k, filters: o.filters, size: o.size }), outer: { optimizer: 'Adam', lr: o.lr }, rho0: o.rho0, gamma0: o.gamma0,
      dataFingerprint: state.dataFingerprint,
      ...(splits ? { splits: { metaTraining: describeSplit(splits.train), metaTest: describeSplit(splits.test) } } : {}),
    },
    table: runs.filter((r) => r.final).map(row),
    initial: asRow(state.initial),
    initialShort: asRow(state.initialShort),
    figure7: {
      accuracy: runs.map((r) => {
        const start = r.T === 1 && r.T !== o.T ? state.initialShort : state.initial;
        const pts = [...(start ? [start] : []), ...r.test, ...(r.final ? [r.final] : [])];
        return { method: r.method, tau: pts.map((p) => p.tau), accuracy: pts.map((p) => p.accuracy), ci95: pts.map((p) => p.ci95) };
      }),
      validationLoss: runs.map((r) => ({ method: r.method, values: r.valLoss })),
      cosine: runs.filter((r) => r.cosine.length).map((r) => ({ method: r.method, tau: r.cosine.map((c) => c.tau), cos: r.cosine.map((c) => c.cos) })),
      truncation: state.curves ?? null,
    },
  };
}

/** How a method is named in tables and legends. */
export function methodLabel(method: string, T: number): string {
  if (method === 'full' || method === String(T)) return 'Full RMD';
  if (method === 'short') return 'Short horizon (T = 1)';
  return `${method}-RMD`;
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : 'n/a');

/** A split in words. */
function splitText(s: OmniglotSplit): string {
  return `${s.file}, ${s.alphabets} alphabets, ${s.characters} characters, ${s.classes} classes with rotations` +
    (s.droppedAlphabets.length ? ` (without ${s.droppedAlphabets.join(' and ')}, which meta-training holds too)` : '');
}

/** summary.md's body: Table 4, the reference rows and the truncation errors. */
export function omniglotSummary(o: OmniglotOptions, r: OmniglotResults): string {
  const p = r.problem;
  const acc = (a: number, ci: number) => `${pct(a)} ± ${pct(ci)}`;
  const rows: (string | number)[][] = r.table.map((t) => [
    methodLabel(t.method, o.T), acc(t.testAcc, t.testAccCI95), t.hyperIters, t.T,
    `${formatNumber(t.secPerHyperiter, 3)} (${formatNumber(t.secPerHyperiterMedian, 3)})`, Number((t.peakBytes / 2 ** 20).toPrecision(3)),
  ]);
  if (r.initial) rows.push([`λ at its initial value (no meta-training)`, acc(r.initial.testAcc, r.initial.testAccCI95), 0, o.T, '', '']);
  if (r.initialShort) rows.push([`λ at its initial value, T = 1`, acc(r.initialShort.testAcc, r.initialShort.testAccCI95), 0, 1, '', '']);
  const lines = [
    `${p.k}-way one-shot Omniglot: S has 1 image per class, Q ${p.queries}; ${p.size}x${p.size} images; MAML's 4-block network with ${p.filters} filters ` +
      `(blocks 1-2 in λ, blocks 3-4 and the output adapted, ${p.lambdaValues} values in λ); T = ${p.T} inner steps; Adam with step ${p.outer.lr}; ` +
      `accuracy on Q over ${p.evalTasks} meta-test tasks (95% interval).` +
      (p.splits ? ` Meta-training: ${splitText(p.splits.metaTraining)}; meta-test: ${splitText(p.splits.metaTest)}.` : ''),
    '',
    '## Table 4: one-shot learning on Omniglot',
    '',
    markdownTable(['Method', 'Accuracy (%)', 'iter.', 'T', 's / iter.: mean (median)', 'peak GPU MiB'], rows),
    '',
    'Seconds per hyper-iteration: the hypergradient and the Adam step (Figure 7\'s extra work excluded). Peak GPU MiB: the most one hypergradient allocated above what was live before it (results.json has bytes).',
  ];
  if (r.figure7.truncation) {
    const c = r.figure7.truncation;
    const at = [1, 5, 10, 25, o.T - 1].filter((K, i, a) => K >= 1 && K < o.T && a.indexOf(K) === i);
    lines.push('', `Relative error ||h_{T-K} - d_λ f|| / ||d_λ f|| at the final λ of ${methodLabel(c.method, o.T)} (Figure 7, right):`, '',
      markdownTable(['K', ...at.map(String)], [
        ['ρ as learned', ...at.map((K) => formatNumber(c.regularised[K - 1]!, 3))],
        ['ρ = 0', ...at.map((K) => formatNumber(c.unregularised[K - 1]!, 3))],
      ]));
  }
  return lines.join('\n');
}

/** Running mean over `w` values (the first ones average what there is). */
function runningMean(xs: readonly number[], w: number): number[] {
  const out: number[] = [];
  let acc = 0;
  for (let i = 0; i < xs.length; i++) {
    acc += xs[i]!;
    if (i >= w) acc -= xs[i - w]!;
    out.push(acc / Math.min(i + 1, w));
  }
  return out;
}

/** Figure 7's four panels. */
export function omniglotFigures(o: OmniglotOptions, r: OmniglotResults): Figure[] {
  const label = (m: string) => methodLabel(m, o.T);
  const order = r.figure7.accuracy.map((a) => label(a.method));
  const window = Math.max(1, Math.round(o.hyperIterations / 20));
  const figures: Figure[] = [
    {
      name: 'figure7-accuracy',
      title: 'Figure 7 (1): test accuracy vs. hyper-iteration',
      caption: `Mean accuracy on Q over ${o.evalTasks} meta-test tasks, at hyper-iteration 0 (the initial λ), every ${o.evalEvery} and at the last.`,
      grammar: 'vega-lite',
      spec: lineChart({
        title: 'Test accuracy',
        rows: r.figure7.accuracy.flatMap((a) => a.tau.map((t, i) => ({ tau: t, accuracy: 100 * a.accuracy[i]!, method: label(a.method) }))),
        x: { field: 'tau', title: 'hyper-iteration' },
        y: { field: 'accuracy', title: 'test accuracy (%)' },
        series: { field: 'method', title: 'method', sort: order },
        points: true,
      }),
    },
    {
      name: 'figure7-validation-loss',
      title: 'Figure 7 (2): validation loss vs. hyper-iteration',
      caption: `f, the cross-entropy on Q of each hyper-iteration's task, as a running mean over ${window} hyper-iterations.`,
      grammar: 'vega-lite',
      spec: lineChart({
        title: 'Validation loss (running mean)',
        rows: r.figure7.validationLoss.flatMap((v) => runningMean(v.values, window).map((x, tau) => ({ tau, loss: x, method: label(v.method) }))),
        x: { field: 'tau', title: 'hyper-iteration' },
        y: { field: 'loss', title: 'f (cross-entropy on Q)' },
        series: { field: 'method', title: 'method', sort: order },
      }),
    },
  ];
  if (r.figure7.cosine.length) {
    figures.push({
      name: 'figure7-cosine',
      title: 'Figure 7 (3): cosine similarity with full RMD',
      caption: `cos(h_{T-K}, d_λ f) of each K-RMD hypergradient with full RMD's on the same task, every ${o.exactEvery} hyper-iterations of its run. Positive: a descent direction.`,
      grammar: 'vega-lite',
      spec: lineChart({
        title: 'Cosine similarity with full RMD',
        rows: r.figure7.cosine.flatMap((c) => c.tau.map((t, i) => ({ tau: t, cos: c.cos[i]!, method: label(c.method) }))),
        x: { field: 'tau', title: 'hyper-iteration' },
        y: { field: 'cos', title: 'cosine similarity' },
        series: { field: 'method', title: 'method', sort: order },
        points: true,
        rule: 0,
      }),
    });
  }
  const c = r.figure7.truncation;
  if (c) {
    const curve = (values: number[], name: string) => values.slice(0, o.T - 1).map((e, i) => ({ K: i + 1, error: e, problem: name }));
    figures.push({
      name: 'figure7-truncation',
      title: 'Figure 7 (4): relative error of K-RMD vs. reverse depth K',
      caption: `||h_{T-K} - d_λ f|| / ||d_λ f|| for K = 1..${o.T - 1} (0 at K = T) on one meta-training task at the final λ of ${label(c.method)}, with ρ as learned and with ρ = 0, on a log scale. Proposition 3.1: exponential decay when the inner problem is strongly convex.`,
      grammar: 'vega-lite',
      spec: lineChart({
        title: 'Relative ℓ2 error of h_{T-K}',
        rows: [...curve(c.regularised, 'ρ as learned'), ...curve(c.unregularised, 'ρ = 0')],
        x: { field: 'K', title: 'reverse depth K' },
        y: { field: 'error', title: 'relative error', log: true },
        series: { field: 'problem', title: 'inner problem' },
      }),
    });
  }
  return figures;
}
