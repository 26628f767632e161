// The findings of docs/REPRODUCTION.md: each figure of ours beside a line on what the paper's
// shows, with a yes/no decided by numbers computed from results.json; and the paper's claims we
// test (exponential decay of the truncation bias, descent directions, the time saved), each with
// the number that decides it. Thresholds are stated where they are used.
import { markdownTable } from './report.js';
import { hasPath, resolvePath, type Source } from './reproduction-cells.js';
import { FIGURE_STATEMENTS, TIME_CLAIMS } from './paper-numbers.js';
import { ours, paper, REPORT_EXPERIMENTS, type ReportContext, type ReportExperiment } from './reproduction-tables.js';

/** A figure's verdict: does ours show what the paper's does, and the numbers that decide it. */
interface Verdict {
  same: 'yes' | 'no' | '—';
  evidence: string;
}

const yesNo = (b: boolean): 'yes' | 'no' => (b ? 'yes' : 'no');

/** Ks of a series list at `path` (e.g. runs of one objective), in the order of the file. */
function keys(json: unknown, path: string, field: string): number[] {
  if (!hasPath(json, path)) return [];
  return (resolvePath(json, path, 'results.json') as Record<string, unknown>[]).map((x) => x[field] as number);
}

type Decide = (ctx: ReportContext, e: ReportExperiment) => Verdict | null;

const toyFigures: Record<string, Decide> = {
  'figure1-f': () => ({ same: '—', evidence: 'a picture of f' }),
  'figure1-error': (ctx, e) => {
    const b = ctx.book;
    const ratio = b.peek('maxRatio', [ours(e, 'figure1.error'), ours(e, 'figure1.bound')]);
    const r2 = b.peek('logR2', [ours(e, 'figure1.K'), ours(e, 'figure1.error')]);
    const rate = b.peek('logRate', [ours(e, 'figure1.K'), ours(e, 'figure1.error')]);
    return {
      same: yesNo(ratio <= 1 && rate < 1 && r2 >= 0.95),
      evidence: `largest error / bound ${b.cell('maxRatio', [ours(e, 'figure1.error'), ours(e, 'figure1.bound')], 's3')} (≤ 1: under the bound); ` +
        `ln error against K: factor ${b.cell('logRate', [ours(e, 'figure1.K'), ours(e, 'figure1.error')], 's4')} per step, R² ${b.cell('logR2', [ours(e, 'figure1.K'), ours(e, 'figure1.error')], 'f4')} (exponential: factor < 1, R² ≥ 0.95)`,
    };
  },
  'figure2-ratio': (ctx, e) => {
    const b = ctx.book;
    const f = b.peek('min', [ours(e, 'figure2[objective=f].ratio.*')]);
    const ft = b.peek('min', [ours(e, 'figure2[objective=f~].ratio.*')]);
    return {
      same: yesNo(f > 0 && ft < 0),
      evidence: `smallest ratio over every K and iterate: ${b.cell('min', [ours(e, 'figure2[objective=f].ratio.*')], 's3')} for f (> 0), ` +
        `${b.cell('min', [ours(e, 'figure2[objective=f~].ratio.*')], 's3')} for f~ (< 0)`,
    };
  },
  'figure3-trajectories': (ctx, e) => finalDistances(ctx, e, 'f~'),
  'figure3-distance': (ctx, e) => finalDistances(ctx, e, 'f~'),
  'figure4-trajectories': (ctx, e) => finalDistances(ctx, e, 'f'),
  'figure4-distance': (ctx, e) => finalDistances(ctx, e, 'f'),
};

/**
 * Figures 3 and 4: the final distance to the optimum of every K. For f~ (Figure 3): K = 1 ends away
 * from the optimum and the distance never grows with K. For f (Figure 4): every K ends within 1 %
 * of its starting distance.
 */
function finalDistances(ctx: ReportContext, e: ReportExperiment, objective: 'f' | 'f~'): Verdict {
  const b = ctx.book;
  const Ks = keys(ctx.runs[e]!.json, 'runs', 'K').filter((_, i) => (ctx.runs[e]!.json.runs[i].objective as string) === objective);
  const path = (K: number) => `runs[objective=${objective},K=${K}].distance`;
  const finals = Ks.map((K) => b.peek('last', [ours(e, path(K))]));
  const starts = Ks.map((K) => b.peek('first', [ours(e, path(K))]));
  const list = Ks.map((K) => `${K}: ${b.cell('last', [ours(e, path(K))], 's3')}`).join(', ');
  if (objective === 'f~') {
    const monotone = finals.every((d, i) => i === 0 || d <= finals[i - 1]!);
    const biased = finals[0]! > 0.01 * starts[0]!;
    return {
      same: yesNo(monotone && biased),
      evidence: `final distance to the optimum by K (${list}), from ${b.cell('first', [ours(e, path(Ks[0]!))], 's3')}: K = ${Ks[0]} stays away (over 1 % of the start) and the distance never grows with K`,
    };
  }
  return {
    same: yesNo(finals.every((d, i) => d < 0.01 * starts[i]!)),
    evidence: `final distance to the optimum by K (${list}), from ${b.cell('first', [ours(e, path(Ks[0]!))], 's3')}: every K within 1 % of its start`,
  };
}

const hypercleaningFigures: Record<string, Decide> = {
  figure5: (ctx, e) => {
    const b = ctx.book;
    const j = ctx.runs[e]!.json;
    const T = j.problem?.T as number;
    const Ks = keys(j, 'figure5.series', 'K').filter((K) => K !== T);
    if (!hasPath(j, `figure5.series[K=${T}]`) || !Ks.length) return null;
    const ratio = (K: number): Source[] => [ours(e, `figure5.series[K=${K}].norm`), ours(e, `figure5.series[K=${T}].norm`)];
    const values = Ks.map((K) => b.peek('lastOverLast', ratio(K)));
    const falling = values.every((v, i) => i === 0 || v <= values[i - 1]!);
    return {
      same: yesNo(values.every((v) => v > 1) && falling),
      evidence: `final ||d_λ f|| / full RMD's, by K: ${Ks.map((K) => `${K}: ${b.cell('lastOverLast', ratio(K), 's3')}`).join(', ')} ` +
        '(every truncated run stalls above full RMD: > 1; and less so as K grows)',
    };
  },
  'validation-loss': (ctx, e) => {
    const b = ctx.book;
    return {
      same: yesNo(b.peek('increases', [ours(e, 'table[*].valLoss')]) === 0),
      evidence: `not a figure of the paper; its text says validation loss decreases with K: the final validation loss rises ${b.cell('increases', [ours(e, 'table[*].valLoss')], 'f0')} time(s) from one K to the next (0: yes)`,
    };
  },
  f1: (ctx, e) => {
    const j = ctx.runs[e]!.json;
    if (!hasPath(j, 'flagHistory[K=1].f1')) return { same: '—', evidence: 'not a figure of the paper (F1 against hyper-iteration)' };
    const b = ctx.book;
    return {
      same: '—',
      evidence: `not a figure of the paper: F1 against hyper-iteration; 1-RMD ends at ${b.cell('last', [ours(e, 'flagHistory[K=1].f1')], 'f3')} (the paper's Table 2: 0.85 after 1,000)`,
    };
  },
};

const taskInteractionFigures: Record<string, Decide> = {
  'figure6-cifar10': (ctx, e) => cosineVerdict(ctx, e, 'cifar10'),
  'figure6-cifar100': (ctx, e) => cosineVerdict(ctx, e, 'cifar100'),
};

/**
 * Figure 6. CIFAR-10: for every 1 < K < T, the last cosine with the exact hypergradient is at least
 * 0.95 ("almost the same"). CIFAR-100: 1-RMD's cosine is negative somewhere.
 */
function cosineVerdict(ctx: ReportContext, e: ReportExperiment, dataset: string): Verdict | null {
  const b = ctx.book;
  const j = ctx.runs[e]!.json;
  const T = j.problem?.T as number;
  const path = (K: number) => `figure6.series[dataset=${dataset},K=${K}].exact[*].cosine`;
  if (dataset === 'cifar100') {
    if (!hasPath(j, `figure6.series[dataset=${dataset},K=1]`)) return null;
    return {
      same: yesNo(b.peek('min', [ours(e, path(1))]) < 0),
      evidence: `smallest cosine of 1-RMD: ${b.cell('min', [ours(e, path(1))], 's3')} (< 0)`,
    };
  }
  const Ks = ((j.figure6?.series ?? []) as { dataset: string; K: number }[]).filter((s) => s.dataset === dataset && s.K > 1 && s.K < T).map((s) => s.K);
  if (!Ks.length) return null;
  const last = Ks.map((K) => b.peek('last', [ours(e, path(K))]));
  return {
    same: yesNo(last.every((c) => c >= 0.95)),
    evidence: `last cosine by K: ${Ks.map((K) => `${K}: ${b.cell('last', [ours(e, path(K))], 'f3')}`).join(', ')} (≥ 0.95 for every 1 < K < T), ` +
      `at hyper-iteration ${b.cell('last', [ours(e, `figure6.series[dataset=${dataset},K=${Ks[0]}].exact[*].tau`)], 'f0')}`,
  };
}

const omniglotFigures: Record<string, Decide> = {
  'figure7-accuracy': (ctx, e) => {
    const b = ctx.book;
    const j = ctx.runs[e]!.json;
    const methods = ((j.table ?? []) as { method: string; T: number }[]).filter((r) => /^\d+$/.test(r.method)).map((r) => r.method);
    if (!hasPath(j, 'table[method=full]') || !methods.length) return null;
    const overlap = methods.every((m) => Math.abs(b.peek('difference', [ours(e, `table[method=${m}].testAcc`), ours(e, 'table[method=full].testAcc')])) <=
      b.peek('value', [ours(e, `table[method=${m}].testAccCI95`)]) + b.peek('value', [ours(e, 'table[method=full].testAccCI95')]));
    return {
      same: yesNo(overlap),
      evidence: `final accuracy − full RMD's, in points: ${methods.map((m) => `${m}-RMD ${b.cell('percentDifference', [ours(e, `table[method=${m}].testAcc`), ours(e, 'table[method=full].testAcc')], '+f1')}`).join(', ')}; ` +
        `similar when the 95 % intervals overlap (full RMD's ±${b.cell('percent', [ours(e, 'table[method=full].testAccCI95')], 'f1')})`,
    };
  },
  'figure7-validation-loss': (ctx, e) => {
    const b = ctx.book;
    const j = ctx.runs[e]!.json;
    if (!hasPath(j, 'figure7.validationLoss[method=full]')) return null;
    const methods = ((j.figure7.validationLoss ?? []) as { method: string }[]).map((r) => r.method).filter((m) => /^\d+$/.test(m));
    const full = b.peek('meanLastQuarter', [ours(e, 'figure7.validationLoss[method=full].values')]);
    const close = methods.every((m) => Math.abs(b.peek('meanLastQuarter', [ours(e, `figure7.validationLoss[method=${m}].values`)]) / full - 1) <= 0.1);
    return {
      same: yesNo(close),
      evidence: `mean f over the last quarter of the hyper-iterations: full RMD ${b.cell('meanLastQuarter', [ours(e, 'figure7.validationLoss[method=full].values')], 's3')}, ` +
        `${methods.map((m) => `${m}-RMD ${b.cell('meanLastQuarter', [ours(e, `figure7.validationLoss[method=${m}].values`)], 's3')}`).join(', ')} (similar: within 10 %)`,
    };
  },
  'figure7-cosine': (ctx, e) => {
    const b = ctx.book;
    const j = ctx.runs[e]!.json;
    const methods = ((j.figure7?.cosine ?? []) as { method: string }[]).map((r) => r.method);
    if (!methods.length) return null;
    const positive = b.peek('min', [ours(e, 'figure7.cosine[*].cos')]) > 0;
    const decays = methods.every((m) => b.peek('lastMinusFirst', [ours(e, `figure7.cosine[method=${m}].cos`)]) < 0);
    return {
      same: yesNo(positive && decays),
      evidence: `smallest cosine ${b.cell('min', [ours(e, 'figure7.cosine[*].cos')], 'f3')} (> 0); last − first: ` +
        `${methods.map((m) => `${m}-RMD ${b.cell('lastMinusFirst', [ours(e, `figure7.cosine[method=${m}].cos`)], '+f3')}`).join(', ')} (< 0: decays)`,
    };
  },
  'figure7-truncation': (ctx, e) => {
    const b = ctx.book;
    const j = ctx.runs[e]!.json;
    if (!j.figure7?.truncation) return null;
    const T = j.problem?.T as number;
    const reg = ours(e, 'figure7.truncation.regularised');
    const rate = b.peek('logRateOverK', [reg]);
    const r2 = b.peek('logR2OverK', [reg]);
    const flat = b.peek('ratio', [ours(e, `figure7.truncation.unregularised[${T - 2}]`), ours(e, 'figure7.truncation.unregularised[0]')]);
    return {
      same: yesNo(rate < 1 && r2 >= 0.9 && flat > 0.5),
      evidence: `ρ as learned: ln error against K, factor ${b.cell('logRateOverK', [reg], 's4')} per step, R² ${b.cell('logR2OverK', [reg], 'f3')} (exponential: < 1, R² ≥ 0.9); ` +
        `ρ = 0: error at K = T − 1 / at K = 1 ${b.cell('ratio', [ours(e, `figure7.truncation.unregularised[${T - 2}]`), ours(e, 'figure7.truncation.unregularised[0]')], 'f3')} (no exponential decay: over 0.5)`,
    };
  },
};

const DECIDERS: Record<ReportExperiment, Record<string, Decide>> = {
  toy: toyFigures,
  hypercleaning: hypercleaningFigures,
  'task-interaction': taskInteractionFigures,
  omniglot: omniglotFigures,
};

/** Every figure of every run with the paper's statement and our verdict. */
export function figuresSection(ctx: ReportContext): string[] {
  const out = [
    '## Figures',
    '',
    'Each of our figures beside what the paper\'s shows. "Same?" is decided by the numbers in the last column, computed from results.json by the formulas listed at the end.',
    '',
  ];
  for (const e of REPORT_EXPERIMENTS) {
    const run = ctx.runs[e];
    if (!run) continue;
    const rows = run.figures.map((name) => {
      const statement = FIGURE_STATEMENTS[name];
      const decide = DECIDERS[e][name];
      const verdict = decide ? decide(ctx, e) : null;
      return [
        `[${name}.svg](${run.link}/${name}.svg)`,
        statement ? `${statement.figure}: ${statement.shows}` : 'not a figure of the paper',
        verdict ? (verdict.same === 'no' ? '**no**' : verdict.same) : '—',
        verdict ? verdict.evidence : statement ? 'nothing in results.json decides it' : '',
      ];
    });
    out.push(`### ${e}`, '', markdownTable(['ours', 'the paper\'s figure shows', 'same?', 'decided by'], rows), '');
  }
  return out;
}

/** The paper's claims we test, each with its yes/no and the number that decides it. */
export function claimsSection(ctx: ReportContext): string[] {
  const b = ctx.book;
  const rows: string[][] = [];
  const toy = ctx.runs.toy;
  if (toy) {
    const e = 'toy';
    const rate = b.peek('logRate', [ours(e, 'figure1.K'), ours(e, 'figure1.error')]);
    const r2 = b.peek('logR2', [ours(e, 'figure1.K'), ours(e, 'figure1.error')]);
    rows.push([
      'K-RMD\'s bias decays exponentially in K (Proposition 3.1)', 'toy, Figure 1: ||h_{T−K} − d_λ f|| at λ = (1, 1), K = 1..T − 1',
      `fit of ln error against K: factor ${b.cell('logRate', [ours(e, 'figure1.K'), ours(e, 'figure1.error')], 's4')} per step (the bound's 1 − γα = ${b.cell('oneMinusProduct', [ours(e, 'problem.gamma'), ours(e, 'figure1.alpha')], 's4')}), ` +
        `R² ${b.cell('logR2', [ours(e, 'figure1.K'), ours(e, 'figure1.error')], 'f4')}; yes when the factor is < 1 and R² ≥ 0.95`,
      yesNo(rate < 1 && r2 >= 0.95),
    ]);
    const fmin = b.peek('min', [ours(e, 'figure2[objective=f].ratio.*')]);
    rows.push([
      'K-RMD is a descent direction when ∇_λ f = 0 (Lemma 3.2)', 'toy, Figure 2: h_{T−K}ᵀ d_λ f / ||d_λ f||² for every K at every iterate of the 1-RMD run on f',
      `smallest ratio ${b.cell('min', [ours(e, 'figure2[objective=f].ratio.*')], 's3')}; yes when > 0 (and on f~, where ∇_λ f~ ≠ 0, the smallest is ${b.cell('min', [ours(e, 'figure2[objective=f~].ratio.*')], 's3')})`,
      yesNo(fmin > 0),
    ]);
  }
  const om = ctx.runs.omniglot;
  if (om?.json.figure7?.truncation) {
    const e = 'omniglot';
    const reg = ours(e, 'figure7.truncation.regularised');
    rows.push([
      'the same decay on a deep network with ρ > 0', 'Omniglot, Figure 7 plot 4: relative error of h_{T−K} at full RMD\'s final λ',
      `fit of ln error against K: factor ${b.cell('logRateOverK', [reg], 's4')} per step, R² ${b.cell('logR2OverK', [reg], 'f3')}; yes when < 1 and R² ≥ 0.9`,
      yesNo(b.peek('logRateOverK', [reg]) < 1 && b.peek('logR2OverK', [reg]) >= 0.9),
    ]);
  }
  rows.push(...timeClaims(ctx));
  return [
    '## Claims',
    '',
    'The paper\'s claims that our runs test, each with the number that decides it.',
    '',
    markdownTable(['claim', 'tested on', 'decided by', 'holds?'], rows.map((r) => [r[0]!, r[1]!, r[2]!, r[3] === 'no' ? '**no**' : r[3]!])),
  ];
}

/** Whether a run's results.json says it was resumed (a non-empty `settings.resume`). */
function resumed(json: { settings?: { resume?: unknown } }): boolean {
  return typeof json.settings?.resume === 'string' && json.settings.resume !== '';
}

/** "Truncation halves the time": median seconds per hyper-iteration of a K-RMD run over full RMD's, per experiment. */
function timeClaims(ctx: ReportContext): string[][] {
  const b = ctx.book;
  const rows: string[][] = [];
  const claim = 'truncation halves the time per hyper-iteration';
  const decide = (num: Source, den: Source) => yesNo(b.peek('ratio', [num, den]) <= 0.5);
  // A resumed run timed its parts in different sessions (other loads, maybe another engine): its
  // time ratios are shown but decide nothing.
  const resumedNote = '; not decided: the run was resumed (`settings.resume`), so its K were timed in different sessions, under other loads';
  const hc = ctx.runs.hypercleaning;
  if (hc) {
    const e = 'hypercleaning';
    const T = hc.json.problem?.T as number;
    const K = hasPath(hc.json, 'table[K=5]') ? 5 : (hc.json.table?.[0]?.K as number);
    if (K !== undefined && K !== T && hasPath(hc.json, `table[K=${T}]`)) {
      const num = ours(e, `table[K=${K}].secPerHyperiterMedian`);
      const den = ours(e, `table[K=${T}].secPerHyperiterMedian`);
      const text = `time ratio ${b.cell('ratio', [num, den], 'f2')} (the paper: ${TIME_CLAIMS.hypercleaning.words}); yes when ≤ 0.5`;
      if (resumed(hc.json)) rows.push([claim, `hypercleaning: ${K}-RMD against full RMD`, text + resumedNote, 'not decided']);
      else rows.push([claim, `hypercleaning: ${K}-RMD against full RMD`, text, decide(num, den)]);
    }
  }
  const ti = ctx.runs['task-interaction'];
  if (ti) {
    const e = 'task-interaction';
    const T = ti.json.problem?.T as number;
    for (const d of (ti.json.problem?.datasets ?? []) as { name: string }[]) {
      const K = ((ti.json.table ?? []) as { dataset: string; K: number }[]).filter((r) => r.dataset === d.name).map((r) => r.K).sort((a, c) => a - c)[0];
      if (K === undefined || K === T || !hasPath(ti.json, `table[dataset=${d.name},K=${T}]`)) continue;
      const num = ours(e, `table[dataset=${d.name},K=${K}].secPerHyperiterMedian`);
      const den = ours(e, `table[dataset=${d.name},K=${T}].secPerHyperiterMedian`);
      const hasPaper = d.name === 'cifar10' || d.name === 'cifar100';
      // Cells in the order the text shows them: ours, then the paper's.
      const ratio = b.cell('ratio', [num, den], 'f2');
      const paperRatio = hasPaper && K === 1
        ? ` (the paper's Table 3: ${b.cell('ratio', [paper('table3', `rows[dataset=${d.name},K=1].secPerIter`), paper('table3', `rows[dataset=${d.name},K=100].secPerIter`)], 'f2')})`
        : '';
      if (resumed(ti.json)) rows.push([claim, `task interaction, ${d.name}: ${K}-RMD against full RMD`, `time ratio ${ratio}${paperRatio}; yes when ≤ 0.5${resumedNote}`, 'not decided']);
      else rows.push([claim, `task interaction, ${d.name}: ${K}-RMD against full RMD`, `time ratio ${ratio}${paperRatio}; yes when ≤ 0.5`, decide(num, den)]);
    }
  }
  const om = ctx.runs.omniglot;
  if (om && hasPath(om.json, 'table[method=full]')) {
    const e = 'omniglot';
    const m = ((om.json.table ?? []) as { method: string; K: number }[]).filter((r) => /^\d+$/.test(r.method)).sort((a, c) => a.K - c.K)[0]?.method;
    if (m !== undefined) {
      const num = ours(e, `table[method=${m}].secPerHyperiterMedian`);
      const den = ours(e, 'table[method=full].secPerHyperiterMedian');
      const ratio = b.cell('ratio', [num, den], 'f2');
      const paperRatio = m === '1' ? ` (the paper's Table 4: ${b.cell('ratio', [paper('table4', 'rows[0].secPerIter'), paper('table4', 'rows[3].secPerIter')], 'f2')})` : '';
      if (resumed(om.json)) rows.push([claim, `Omniglot: ${m}-RMD against full RMD`, `time ratio ${ratio}${paperRatio}; yes when ≤ 0.5${resumedNote}`, 'not decided']);
      else rows.push([claim, `Omniglot: ${m}-RMD against full RMD`, `time ratio ${ratio}${paperRatio}; yes when ≤ 0.5`, decide(num, den)]);
    }
  }
  return rows;
}
