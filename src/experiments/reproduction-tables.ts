// The tables of docs/REPRODUCTION.md: the machine each run used, the paper's Tables 2, 3 and 4
// beside ours with the differences, the reference rows, and the settings that differ from the
// paper's. Every number of ours is a cell (reproduction-cells.ts); the paper's come from
// paper-numbers.ts.
import { markdownTable } from './report.js';
import { hasPath, resolvePath, type CellBook, type Source, type ValueFormat } from './reproduction-cells.js';
import { SETTINGS, TABLE2, TABLE3, TABLE3_DATASETS, TABLE4 } from './paper-numbers.js';

/** The experiments the report knows, in its order. */
export const REPORT_EXPERIMENTS = ['toy', 'hypercleaning', 'task-interaction', 'omniglot'] as const;

/** One of REPORT_EXPERIMENTS. */
export type ReportExperiment = (typeof REPORT_EXPERIMENTS)[number];

/** A run folder as the report reads it. */
export interface ReportRun {
  experiment: ReportExperiment;
  /** The folder, relative to the report's folder, with '/' separators (for links). */
  link: string;
  /** results.json, parsed. */
  json: Record<string, any>;
  /** The SVG figures in the folder (file names without .svg), sorted. */
  figures: string[];
}

/** What the section builders share: the cells and the runs given. */
export interface ReportContext {
  book: CellBook;
  runs: Partial<Record<ReportExperiment, ReportRun>>;
}

/** A formula input from a run's results.json. */
export const ours = (run: ReportExperiment, path: string): Source => ({ run, path });
/** A formula input from the paper's numbers (paper-numbers.ts, by the names reproduction.ts gives them). */
export const paper = (table: string, path: string): Source => ({ paper: table, path });

const DASH = '—';

/** A number of the paper as it prints it. */
const printed = (x: number, digits: number) => x.toFixed(digits);

/** The machine: who ran what, where, for every run given. */
export function machineSection(ctx: ReportContext): string[] {
  const rows = REPORT_EXPERIMENTS.flatMap((e) => {
    const run = ctx.runs[e];
    if (!run) return [[e, 'no run given', '', '', '', '', '']];
    const j = run.json;
    const a = j.adapter as Record<string, unknown> | undefined;
    const adapter = a && typeof a.description === 'string' ? a.description : 'not recorded';
    const backend = a && typeof a.backend === 'string'
      ? `${a.backend}${typeof a.featureLevel === 'string' ? `, ${a.featureLevel} feature level` : ''}${a.software === true ? ', software' : ''}`
      : 'not recorded';
    const wall = typeof j.wallSeconds === 'number' ? ctx.book.cell('value', [ours(e, 'wallSeconds')], 'f0') : 'not recorded';
    const state = j.complete === false ? '**incomplete** (a checkpoint)' : j.quick ? '`--quick` profile' : "the paper's scale (defaults)";
    return [[`[${e}](${run.link}/)`, `\`${String(j.command ?? 'not recorded')}\``, adapter, backend, state, String(j.startedAt ?? 'not recorded'), wall]];
  });
  return [
    '## The machine and the runs',
    '',
    markdownTable(['run', 'command', 'GPU adapter', 'backend', 'profile', 'started (UTC)', 'wall time (s)'], rows),
    '',
    'Times per hyper-iteration below are medians over a run. They were measured on whatever the adapter column says, often ' +
      'with other jobs sharing the machine, so ratios (K-RMD against full RMD in the same run) mean more than absolute seconds.',
  ];
}

/** The settings table of an experiment: the paper's value, ours from results.json, and whether they agree. */
export function settingsTable(ctx: ReportContext, e: ReportExperiment): string[] {
  const run = ctx.runs[e];
  if (!run) return [];
  const rows: string[][] = [];
  for (const s of SETTINGS[e]) {
    const paths = expandPaths(run.json, s.ours);
    if (!paths.length) {
      rows.push([s.name, paperText(s.paper), s.where, 'not recorded', DASH]);
      continue;
    }
    const values = paths.map((p) => resolvePath(run.json, p, `results.json of the ${e} run`));
    const text = paths.map((p, i) => (typeof values[i] === 'number' ? ctx.book.cell('value', [ours(e, p)], 's6') : String(values[i]))).join(', ');
    const same = s.paper === null ? DASH : sameValues(s.paper, values) ? 'yes' : '**no**';
    rows.push([s.name, paperText(s.paper), s.where, text, same]);
  }
  return [markdownTable(['setting', 'paper', 'where the paper says it', 'ours (results.json)', 'same?'], rows)];
}

function paperText(v: number | readonly number[] | null): string {
  if (v === null) return 'not stated';
  return Array.isArray(v) ? v.join(', ') : String(v);
}

function sameValues(p: number | readonly number[], ours: unknown[]): boolean {
  const want = Array.isArray(p) ? p : [p];
  // A setting the paper gives several values for (hyper-iterations 5K and 15K) agrees when ours is one of them.
  if (Array.isArray(p) && ours.length === 1) return want.includes(ours[0] as number);
  return want.length === ours.length && want.every((x, i) => x === ours[i]);
}

/** The paths of every number at `path`: each element of an array, each match of a `[*]`; [] if absent. */
function expandPaths(json: unknown, path: string): string[] {
  const star = path.indexOf('[*]');
  if (star >= 0) {
    const head = path.slice(0, star);
    if (!hasPath(json, head)) return [];
    const arr = resolvePath(json, head, '');
    if (!Array.isArray(arr)) return [];
    return arr.flatMap((_, i) => expandPaths(json, `${head}[${i}]${path.slice(star + 3)}`));
  }
  if (!hasPath(json, path)) return [];
  const v = resolvePath(json, path, '');
  return Array.isArray(v) ? v.map((_, i) => `${path}[${i}]`) : [path];
}

/** Table 2 beside ours, our per-K extras, the reference rows and what they mean. */
export function table2Section(ctx: ReportContext): string[] {
  const e = 'hypercleaning';
  const run = ctx.runs[e];
  const out = ['## Table 2: data hypercleaning (section 4.2.1)', ''];
  if (!run) return [...out, 'No hypercleaning run was given.'];
  const b = ctx.book;
  const j = run.json;
  const T = j.problem?.T as number;
  const rowPath = (K: number) => `table[K=${K}]`;
  const has = (K: number) => hasPath(j, rowPath(K));
  const cell = (K: number, field: string, paperField: string, pct: boolean, fmt: ValueFormat, diffFmt: ValueFormat): [string, string] =>
    has(K)
      ? [
          b.cell(pct ? 'percent' : 'value', [ours(e, `${rowPath(K)}.${field}`)], fmt),
          b.cell(pct ? 'percentMinus' : 'difference', [ours(e, `${rowPath(K)}.${field}`), paper('table2', `rows[K=${K}].${paperField}`)], diffFmt),
        ]
      : [DASH, DASH];
  const rows = TABLE2.rows.map((p) => [
    p.K === T ? `${p.K} (full RMD)` : String(p.K),
    printed(p.testAcc, 2), ...cell(p.K, 'testAcc', 'testAcc', true, 'f2', '+f2'),
    printed(p.valAcc, 2), ...cell(p.K, 'valAcc', 'valAcc', true, 'f2', '+f2'),
    printed(p.valLoss, 3), ...cell(p.K, 'valLoss', 'valLoss', false, 'f3', '+f3'),
    printed(p.f1, 2), ...cell(p.K, 'f1', 'f1', false, 'f2', '+f2'),
  ]);
  out.push(
    markdownTable(['K', 'Test Acc. paper', 'ours', 'Δ', 'Val. Acc. paper', 'ours', 'Δ', 'Val. Loss paper', 'ours', 'Δ', 'F1 paper', 'ours', 'Δ'], rows),
    '',
    `Accuracies in %, Δ = ours − paper (points for accuracies). Ours: \`table[K].testAcc\`, \`valAcc\` (× 100), \`valLoss\`, \`f1\` of [results.json](${run.link}/results.json).`,
    '',
    'Ours only (the paper does not report these): how the flagging splits, and what a hyper-iteration costs.',
    '',
  );
  const extra = ((j.table ?? []) as { K: number }[]).map((r) => [
    r.K === T ? `${r.K} (full RMD)` : String(r.K),
    b.cell('value', [ours(e, `${rowPath(r.K)}.precision`)], 'f3'),
    b.cell('value', [ours(e, `${rowPath(r.K)}.recall`)], 'f3'),
    b.cell('value', [ours(e, `${rowPath(r.K)}.flagged`)], 'f0'),
    b.cell('value', [ours(e, `${rowPath(r.K)}.secPerHyperiterMedian`)], 's3'),
    b.cell('mebibytes', [ours(e, `${rowPath(r.K)}.peakBytes`)], 's3'),
  ]);
  out.push(markdownTable(['K', 'precision', 'recall', 'flagged', 's / hyper-iter. (median)', 'peak GPU MiB'], extra), '');
  out.push(...hypercleaningReferences(ctx), '', '### Settings', '', ...settingsTable(ctx, e));
  return out;
}

function hypercleaningReferences(ctx: ReportContext): string[] {
  const e = 'hypercleaning';
  const run = ctx.runs[e]!;
  const j = run.json;
  const b = ctx.book;
  const T = j.problem?.T as number;
  const refs = j.references ?? {};
  const row = (key: string, what: string, step: string) => [
    what, step,
    b.cell('percent', [ours(e, `references.${key}.testAcc`)], 'f2'),
    b.cell('percent', [ours(e, `references.${key}.valAcc`)], 'f2'),
    b.cell('value', [ours(e, `references.${key}.valLoss`)], 'f3'),
  ];
  const rows: string[][] = [];
  const stable = refs.baselineStable !== undefined;
  if (stable) rows.push(row('baselineStable', 'all weights 1 (no cleaning), largest stable step', `γ = ${b.cell('value', [ours(e, 'references.baselineStable.gamma')], 's4')}`));
  if (refs.initial) rows.push(row('initial', 'all weights σ(λ0), where every run starts', `γ = ${b.cell('value', [ours(e, 'problem.gamma')], 's4')}`));
  if (refs.oracle) rows.push(row('oracle', 'clean training examples only (oracle)', `γ = ${b.cell('value', [ours(e, 'problem.gamma')], 's4')}`));
  if (refs.baseline) rows.push(row('baseline', 'all weights 1 at the runs\' step: **unstable**, not a baseline', `γ = ${b.cell('value', [ours(e, 'problem.gamma')], 's4')}`));
  const out = [
    '### Reference rows (ours; the paper reports none)',
    '',
    markdownTable(['classifier (W_T after the same T steps, fixed weights)', 'step', 'Test Acc.', 'Val. Acc.', 'Val. Loss'], rows),
    '',
  ];
  // Full RMD's row when that run finished, else the largest K that did (a run still in progress).
  const finished = ((j.table ?? []) as { K: number }[]).map((r) => r.K).sort((x, y) => y - x);
  const bestK = finished.includes(T) ? T : finished[0];
  const fullRow = `table[K=${bestK}]`;
  const who = bestK === T ? 'Full RMD\'s classifier' : `The classifier of ${bestK}-RMD (the largest K finished in this run)`;
  if (stable && bestK !== undefined) {
    const halvings = Number(refs.baselineStable.halvings ?? 0);
    out.push(`**What cleaning buys.** ${who} differs by ${b.cell('percentDifference', [ours(e, `${fullRow}.testAcc`), ours(e, 'references.baselineStable.testAcc')], '+f2')} points of test accuracy ` +
      `from the same classifier trained without cleaning at the largest stable step, and by ${b.cell('percentDifference', [ours(e, `${fullRow}.testAcc`), ours(e, 'references.oracle.testAcc')], '+f2')} points from the one trained on the clean examples only (the oracle).` +
      (halvings > 0
        ? ' The stable step is smaller than the runs\' γ, so in the same T steps that baseline trains less far: part of the first gap may be training length, not cleaning.'
        : ''));
  } else if (!stable) {
    out.push('**This results.json has no stable no-cleaning baseline** (`references.baselineStable`; the file predates it). ' +
      'Measure cleaning against the starting weights σ(λ0) row, not the γ = 1 row.');
  }
  out.push('', 'The all-weights-1 row at the runs\' step is not a baseline: with every weight 1 the curvature of g is about twice that at the ' +
    'starting weights ½, and at γ = 1 gradient descent oscillates instead of converging (the runs start at weights ½, an effective step of ½). ' +
    'It stays in the table only so that the number quoted from earlier versions can be found with its explanation.');
  if (hasPath(j, 'table[K=1]')) out.push('', ...k1Flagging(ctx));
  return out;
}

/** What K = 1's flags say, decided by the numbers: below the paper's F1 or not, and which side it errs on. */
function k1Reading(f1: number, precision: number, recall: number): string {
  const paper = TABLE2.rows.find((r) => r.K === 1)!.f1;
  if (f1 >= paper - 0.02) return `Its F1 is not below the paper's ${paper} for K = 1.`;
  return recall < precision
    ? `Its F1 is below the paper's ${paper}: what it flags is mostly right, but it flags too few (recall below precision), because few λ_i have crossed the threshold −3 by the end of the run.`
    : `Its F1 is below the paper's ${paper}: it flags too many clean examples (precision below recall).`;
}

/** Why K = 1's F1 lags: its precision and recall, and with flagHistory, F1 over the hyper-iterations. */
function k1Flagging(ctx: ReportContext): string[] {
  const e = 'hypercleaning';
  const j = ctx.runs[e]!.json;
  const b = ctx.book;
  const text = [`**K = 1's F1.** 1-RMD flags ${b.cell('value', [ours(e, 'table[K=1].flagged')], 'f0')} examples of ${b.cell('value', [ours(e, 'problem.nCorrupted')], 'f0')} corrupted: ` +
    `precision ${b.cell('value', [ours(e, 'table[K=1].precision')], 'f3')}, recall ${b.cell('value', [ours(e, 'table[K=1].recall')], 'f3')}. ` +
    k1Reading(b.peek('value', [ours(e, 'table[K=1].f1')]), b.peek('value', [ours(e, 'table[K=1].precision')]), b.peek('value', [ours(e, 'table[K=1].recall')]))];
  if (hasPath(j, 'flagHistory[K=1].f1')) {
    text[0] += ` Along its run, F1 went from ${b.cell('first', [ours(e, 'flagHistory[K=1].f1')], 'f3')} to ${b.cell('last', [ours(e, 'flagHistory[K=1].f1')], 'f3')} ` +
      `(falling ${b.cell('decreases', [ours(e, 'flagHistory[K=1].f1')], 'f0')} times between samples); its last value is at hyper-iteration ${b.cell('last', [ours(e, 'flagHistory[K=1].tau')], 'f0')}.`;
  } else {
    text[0] += ' This results.json has no F1 history (`flagHistory`) to show how F1 grows with the hyper-iterations.';
  }
  return text;
}

/** Table 3 beside ours, the C = 0 reference and its stability, and the settings. */
export function table3Section(ctx: ReportContext): string[] {
  const e = 'task-interaction';
  const run = ctx.runs[e];
  const out = ['## Table 3: task interaction (section 4.2.2)', ''];
  if (!run) return [...out, 'No task-interaction run was given.'];
  const b = ctx.book;
  const j = run.json;
  const T = j.problem?.T as number;
  const rows: string[][] = [];
  const withReference: [string, string][] = [];
  for (const [key, name] of Object.entries(TABLE3_DATASETS)) {
    const ran = hasPath(j, `problem.datasets[name=${key}]`);
    for (const p of TABLE3.rows.filter((r) => r.dataset === key)) {
      const K = p.K === 100 ? T : p.K;
      const path = `table[dataset=${key},K=${K}]`;
      const has = ran && hasPath(j, path);
      const label = p.K === 100 ? 'Full RMD' : `${p.K}-RMD`;
      rows.push([
        name, label,
        `${printed(p.accMean, 2)} ± ${printed(p.accStd, 2)}`,
        has ? `${b.cell('percent', [ours(e, `${path}.testAccMean`)], 'f2')} ± ${b.cell('percent', [ours(e, `${path}.testAccStd`)], 'f2')}` : ran ? DASH : 'not run',
        has ? b.cell('percentMinus', [ours(e, `${path}.testAccMean`), paper('table3', `rows[dataset=${key},K=${p.K}].accMean`)], '+f2') : DASH,
        String(p.iters),
        has ? b.cell('value', [ours(e, `${path}.hyperIters`)], 's4') : DASH,
        printed(p.secPerIter, 1),
        has ? b.cell('value', [ours(e, `${path}.secPerHyperiterMedian`)], 's3') : DASH,
        has ? b.cell('value', [ours(e, `${path}.valLossMean`)], 'f4') : DASH,
      ]);
    }
    const ref = `baseline[dataset=${key}]`;
    if (ran && hasPath(j, ref)) {
      rows.push([
        name, 'C = 0, ρ tuned (ours)', DASH,
        `${b.cell('percent', [ours(e, `${ref}.testAccMean`)], 'f2')} ± ${b.cell('percent', [ours(e, `${ref}.testAccStd`)], 'f2')}`,
        DASH, DASH, b.cell('value', [ours(e, `${ref}.hyperIters`)], 's4'), DASH, DASH, b.cell('value', [ours(e, `${ref}.valLossMean`)], 'f4'),
      ]);
      withReference.push([key, name]);
    }
  }
  // After the table, whose cells come first in the document.
  const notes = withReference.flatMap(([key, name]) => cZeroNotes(ctx, key, name, T));
  out.push(
    markdownTable(['', 'Method', 'Avg. Acc. paper', 'ours', 'Δ', 'Avg. Iter. paper', 'ours', 'Sec/iter. paper', 'ours (median)', 'Val. loss (ours)'], rows),
    '',
    `Accuracies in %, mean ± standard deviation over the trials; Δ = ours − paper in points. Ours: \`table[dataset, K]\` and \`baseline[dataset]\` of [results.json](${run.link}/results.json). ` +
      'Val. loss is the outer objective f at the kept λ (mean over trials): learned C should beat the C = 0 row on it.',
    '',
    ...notes,
    '### Settings',
    '',
    ...settingsTable(ctx, e),
    '',
    `Features: ${String(j.problem?.features ?? 'not recorded')} (RMS norm ${hasPath(j, 'problem.featureNorm') ? b.cell('value', [ours(e, 'problem.featureNorm')], 's4') : 'not recorded'}); ` +
      `the paper does not state its features in the main text. Data: ${((j.problem?.datasets ?? []) as { name: string; source: string }[]).map((d) => `${d.name} from ${d.source}`).join('; ') || 'not recorded'}.`,
  );
  return out;
}

/** The C = 0 reference of one data set: does learned C beat it on f, and is it trained stably? */
function cZeroNotes(ctx: ReportContext, key: string, name: string, T: number): string[] {
  const e = 'task-interaction';
  const b = ctx.book;
  const j = ctx.runs[e]!.json;
  const ref = `baseline[dataset=${key}]`;
  const lines: string[] = [];
  const full = `table[dataset=${key},K=${T}]`;
  if (hasPath(j, full)) {
    const gap = b.peek('difference', [ours(e, `${full}.valLossMean`), ours(e, `${ref}.valLossMean`)]);
    lines.push(`**${name}, learned C against C = 0.** On the objective it optimizes, full RMD's learned C is ${gap < 0 ? 'better' : '**not better**'}: ` +
      `validation loss ${b.cell('difference', [ours(e, `${full}.valLossMean`), ours(e, `${ref}.valLossMean`)], '+f4')} against C = 0; ` +
      `on test accuracy the difference is ${b.cell('percentDifference', [ours(e, `${full}.testAccMean`), ours(e, `${ref}.testAccMean`)], '+f2')} points.`);
  }
  if (hasPath(j, `${ref}.stability`)) {
    const stable = (resolvePath(j, `${ref}.stability.stable`, 'results.json') as boolean) === true;
    lines.push(`**Is the C = 0 reference trained stably?** ${stable ? 'Yes' : '**No**'}: at its kept ρ, the largest γL over the trials is ` +
      `${b.cell('max', [ours(e, `${ref}.stability.gammaL[*]`)], 's3')} (every step of gradient descent decreases g when γL < 2; L = λ_max(XᵀX/n)/2 + 2ρ bounds the Hessian of g), ` +
      `and g(W_t), read back at each of the T steps, went up at most ${b.cell('max', [ours(e, `${ref}.stability.lossIncreases[*]`)], 'f0')} time(s) in a trial.`);
  } else {
    lines.push(`**Is the C = 0 reference trained stably?** Not checked in this results.json (\`${ref}.stability\`; the file predates the check).`);
  }
  return lines.flatMap((l) => [l, '']);
}

/** Table 4 beside ours, the references without meta-training, and the settings with the splits. */
export function table4Section(ctx: ReportContext): string[] {
  const e = 'omniglot';
  const run = ctx.runs[e];
  const out = ['## Table 4: one-shot learning on Omniglot (section 4.3)', ''];
  if (!run) return [...out, 'No Omniglot run was given.'];
  const b = ctx.book;
  const j = run.json;
  const oursRows = (j.table ?? []) as { method: string; hyperIters: number }[];
  // Each of our methods sits beside the paper's row of the same method with the nearest number of hyper-iterations.
  const nearest = new Map<string, number>();
  for (const r of oursRows) {
    const candidates = TABLE4.rows.map((p, i) => ({ p, i })).filter(({ p }) => p.method === r.method);
    if (!candidates.length) continue;
    const best = candidates.reduce((a, c) => (Math.abs(c.p.iters - r.hyperIters) < Math.abs(a.p.iters - r.hyperIters) ? c : a));
    nearest.set(r.method, best.i);
  }
  const label = (m: string) => (m === 'full' ? 'Full RMD' : m === 'short' ? 'Short horizon (T = 1)' : `${m}-RMD`);
  const rows = TABLE4.rows.map((p, i) => {
    const has = nearest.get(p.method) === i;
    const path = `table[method=${p.method}]`;
    return [
      label(p.method), String(p.iters), printed(p.accuracy, 1),
      has ? `${b.cell('percent', [ours(e, `${path}.testAcc`)], 'f1')} ± ${b.cell('percent', [ours(e, `${path}.testAccCI95`)], 'f1')}` : DASH,
      has ? b.cell('percentMinus', [ours(e, `${path}.testAcc`), paper('table4', `rows[${i}].accuracy`)], '+f1') : DASH,
      has ? b.cell('value', [ours(e, `${path}.hyperIters`)], 'f0') : DASH,
      printed(p.secPerIter, 1),
      has ? b.cell('value', [ours(e, `${path}.secPerHyperiterMedian`)], 's3') : DASH,
    ];
  });
  for (const [key, what] of [['initial', 'λ at its initial value (no meta-training; ours)'], ['initialShort', 'λ at its initial value, T = 1 (ours)']] as const) {
    if (j[key]) rows.push([what, DASH, DASH, `${b.cell('percent', [ours(e, `${key}.testAcc`)], 'f1')} ± ${b.cell('percent', [ours(e, `${key}.testAccCI95`)], 'f1')}`, DASH, '0', DASH, DASH]);
  }
  out.push(
    markdownTable(['Method', 'iter. paper', 'Accuracy paper', 'ours (95% interval)', 'Δ', 'iter. ours', 'Sec/iter. paper', 'ours (median)'], rows),
    '',
    `Accuracy in %, on Q of ${hasPath(j, 'problem.evalTasks') ? b.cell('value', [ours(e, 'problem.evalTasks')], 'f0') : 'the'} meta-test tasks (the paper: 120); Δ = ours − paper in points, beside the paper's row ` +
      `of the same method with the nearest number of hyper-iterations. Ours: \`table[method]\`, \`initial\`, \`initialShort\` of [results.json](${run.link}/results.json).`,
    '',
  );
  if (j.initial && hasPath(j, 'table[method=full]')) {
    out.push(`**Meta-training against none.** Full RMD's λ is ${b.cell('percentDifference', [ours(e, 'table[method=full].testAcc'), ours(e, 'initial.testAcc')], '+f1')} points ` +
      `above λ at its initial value (intervals ±${b.cell('percent', [ours(e, 'table[method=full].testAccCI95')], 'f1')} and ±${b.cell('percent', [ours(e, 'initial.testAccCI95')], 'f1')}).`, '');
  }
  out.push('### Settings', '', ...settingsTable(ctx, e), '', `Meta-training and meta-test classes (the paper's Appendix G.3 describes its splits; it is not available to us): ${splitsText(ctx)}.`);
  return out;
}

function splitsText(ctx: ReportContext): string {
  const e = 'omniglot';
  const j = ctx.runs[e]!.json;
  const b = ctx.book;
  if (!hasPath(j, 'problem.splits')) {
    return `not recorded in this results.json (\`problem.splits\`; the file predates it); its \`settings.dataDir\` is '${String(j.settings?.dataDir ?? '')}'`;
  }
  const one = (key: 'metaTraining' | 'metaTest', what: string) => {
    const p = `problem.splits.${key}`;
    const s = resolvePath(j, p, 'results.json') as { file: string; droppedAlphabets: string[] };
    return `${what} ${s.file}: ${b.cell('value', [ours(e, `${p}.alphabets`)], 'f0')} alphabets, ${b.cell('value', [ours(e, `${p}.characters`)], 'f0')} characters, ` +
      `${b.cell('value', [ours(e, `${p}.classes`)], 'f0')} classes with rotations${s.droppedAlphabets.length ? ` (without ${s.droppedAlphabets.join(' and ')}, also in meta-training)` : ''}`;
  };
  return `${one('metaTraining', 'meta-training')}; ${one('metaTest', 'meta-test')}`;
}
