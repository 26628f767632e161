// `npm run bench -- targets`: issue 12's targets with the numbers measured now, each met or not.
//   (a) hypertape / PyTorch time <= 1.0 for the hypercleaning hypergradient, K = 1, 5 and full
//       RMD (the vs-torch comparison, bench/vs-torch.ts; reused when that section ran already);
//   (b) <= 6 dispatches per inner gradient-descent step of that problem with the autodiff inner
//       gradient, and the toy's generic autodiff step no more dispatches than its hand-written one;
//   (c) elementwise and reduction kernels >= 50% of copy bandwidth at 1M and 16M floats;
//   (d) the skinny products >= 2x the GFLOP/s of commit c7a3b1f (bench/targets-kernels.ts);
//   (e) peak memory of K-RMD (K = 5) and RMD no worse than at c7a3b1f (the 8 and 135 MiB).
// Dispatches are counted by the engine (memory().dispatches, through HypergradientStats), which
// counts what actually ran, so the counts stay right whether or not a lazy ops layer fuses.
import { hypergradient, dispose, mul, sub, tensor, type BilevelProblem, type Tensor } from '../src/node.js';
import { toyProblem, TOY } from '../src/experiments/toy-problem.js';
import { deviceWorkload, makeWorkload } from './hypercleaning-workload.js';
import { bandwidthRows, skinnyRows } from './targets-kernels.js';
import { fastestTorch, kLabel, paperScaleComparison } from './vs-torch.js';
import { fmt, median, type BenchRow, type BenchSection } from './util.js';

/**
 * Peak live bytes of one hypergradient of the workload above the data at commit c7a3b1f, the
 * memory targets ("no worse than today"; the issue rounds them to 8 MiB and 135 MiB). Measured on
 * that commit with `npm run bench -- vs-torch targets` (2026-12-02, 11:45 UTC); peak bytes do not
 * depend on timing, so every run of that commit gives these numbers.
 */
const PEAK_BASELINE_BYTES = { krmd5: 8_670_208, rmd: 142_330_112 };

/** (a) and (e) from the paper-scale comparison. */
async function comparisonRows(): Promise<BenchRow[]> {
  const res = await paperScaleComparison();
  const T = res.settings.T;
  const paperScale = res.settings.nTrain === 5000 && res.settings.nVal === 5000 && T === 100;
  const rows: BenchRow[] = [];
  for (const row of res.rows) {
    const ht = median(row.hypertapeMs);
    const best = fastestTorch(row);
    if (!best) {
      rows.push({
        name: `(a) ${kLabel(row.K, T)}: hypertape / PyTorch`, ms: ht, target: '<= 1.0',
        note: `not measured: ${'reason' in res.torch ? res.torch.reason : 'no PyTorch timings'}`,
      });
      continue;
    }
    rows.push({
      name: `(a) ${kLabel(row.K, T)}: hypertape / PyTorch`, ms: ht, rate: ht / best.ms, unit: 'x', target: '<= 1.0', met: ht / best.ms <= 1,
      note: `PyTorch ${fmt(best.ms)} ms (${best.threads} thread${best.threads === 1 ? '' : 's'}, its faster); medians of ${row.hypertapeMs.length} alternated runs (vs-torch section)`,
    });
  }
  for (const [K, name, baseline] of [[5, 'K-RMD K = 5', PEAK_BASELINE_BYTES.krmd5], [T, 'full RMD', PEAK_BASELINE_BYTES.rmd]] as const) {
    const row = res.rows.find((r) => r.K === K);
    if (!row) continue;
    rows.push({
      name: `(e) peak memory, ${name}`, ms: median(row.hypertapeMs), rate: row.peakBytes / 2 ** 20, unit: 'MiB',
      target: `<= c7a3b1f's ${fmt(baseline / 2 ** 20)} MiB`, met: row.peakBytes <= baseline,
      note: `${row.peakBytes.toLocaleString('en-US')} bytes, c7a3b1f ${baseline.toLocaleString('en-US')}: peak live GPU bytes of one hypergradient above the data (HypergradientStats.peakBytes)`,
    });
  }
  if (!paperScale) {
    // The targets are stated for the paper's scale: report the numbers, judge nothing.
    const why = `not judged: ${res.settings.nTrain} + ${res.settings.nVal} examples, T = ${T} (BENCH_VS_TORCH_N), not the paper's 5000 + 5000, T = 100`;
    return rows.map(({ met: _, ...r }) => ({ ...r, note: `${why}; ${r.note ?? ''}` }));
  }
  return rows;
}

/**
 * Dispatches and ms per untaped inner step of `problem`: K-RMD with K = 1 run for T = long and
 * T = short steps; the difference over long - short is what one more forward step costs, with
 * the outer objective and the one step walked back cancelling out.
 */
async function perStep(problem: BilevelProblem<Tensor, Tensor>, lambda: Tensor, short: number, long: number): Promise<{ dispatches: number; ms: number }> {
  const run = async (T: number) => {
    const r = await hypergradient({ ...problem, T }, lambda, { method: 'krmd', K: 1 });
    dispose(r.grad);
    return r.stats;
  };
  // Warm-up: pipelines, and the texture copies CPU adapters make of matrices read eight times
  // (the validation set's is read once per call), so that none is made while counting.
  for (let w = 0; w < 9; w++) await run(short);
  const dispatches: number[] = [];
  const ms: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const [a, b] = [await run(long), await run(short)];
    dispatches.push((a.dispatches - b.dispatches) / (long - short));
    ms.push((a.ms - b.ms) / (long - short));
  }
  if (new Set(dispatches).size !== 1) throw new Error(`targets: dispatches per step changed between repetitions: ${dispatches.join(', ')}`);
  return { dispatches: dispatches[0]!, ms: median(ms) };
}

/** (b): dispatches per inner step, the hypercleaning problem's and the toy's. */
export async function dispatchRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const gpu = deviceWorkload(makeWorkload());
  try {
    const auto = await perStep(gpu.problem, gpu.lambda, 10, 20);
    const hand = await perStep(gpu.handWritten, gpu.lambda, 10, 20);
    rows.push({
      name: '(b) hypercleaning inner step, autodiff gradient', ms: auto.ms, rate: auto.dispatches, unit: 'dispatches', target: '<= 6', met: auto.dispatches <= 6,
      note: `gradientDescent(inner, 1) as the README teaches; ms per step from K-RMD (K = 1) at T = 20 minus T = 10, 5000 examples`,
    });
    rows.push({
      name: '    the same with the hand-written gradient', ms: hand.ms, rate: hand.dispatches, unit: 'dispatches',
      note: 'the experiment\'s innerStep (trainingLossGradient), for comparison',
    });
  } finally {
    gpu.dispose();
  }
  const toy = toyProblem();
  const gammaG = tensor(TOY.G.map((g) => TOY.gamma * g));
  const lambda = tensor([1, 1]);
  try {
    const generic = await perStep(toy, lambda, 20, 60);
    const handWritten = await perStep({ ...toy, step: (w: Tensor, l: Tensor) => sub(w, mul(gammaG, sub(w, l))) }, lambda, 20, 60);
    rows.push({
      name: '(b) toy inner step, generic autodiff', ms: generic.ms, rate: generic.dispatches, unit: 'dispatches',
      target: `<= hand-written (${handWritten.dispatches})`, met: generic.dispatches <= handWritten.dispatches,
      note: `gradientDescent(g, 0.1); ${fmt(generic.ms / handWritten.ms)}x the hand-written step's time`,
    });
    rows.push({
      name: '    toy inner step, hand-written', ms: handWritten.ms, rate: handWritten.dispatches, unit: 'dispatches',
      note: 'w - gamma G (w - lambda) (hypertape toy --inner-step explicit)',
    });
  } finally {
    toy.dispose();
    dispose([gammaG, lambda]);
  }
  return rows;
}

/** The `targets` bench section: (a)-(e) above, in that order. */
export const targets: BenchSection = {
  name: 'targets',
  async run(): Promise<BenchRow[]> {
    return [
      ...(await comparisonRows()),
      ...(await dispatchRows()),
      ...(await bandwidthRows()).map((r) => ({ ...r, name: `(c) ${r.name}` })),
      ...(await skinnyRows()).map((r) => ({ ...r, name: `(d) ${r.name}` })),
    ];
  },
};
