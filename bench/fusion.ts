// The lazy ops layer with elementwise fusion (issue 12, part 1), each figure with fusion on and
// off (setFusion(false): one kernel per elementwise op, as before the layer), timed in
// alternation in one process:
//  - dispatches and ms per inner gradient step of the hypercleaning problem (X 5000x785, W 10x785):
//    the step by `gradientDescent` with autodiff (the README's way) and the step written out;
//  - the toy problem's generic autodiff step against its hand-written step;
//  - a chain of elementwise ops at 1M and 16M floats against a copy of the same bytes;
//  - peak bytes of one hypergradient by K-RMD (K = 5) and RMD (T = 100).
import { add, dispose, exp, gradientDescent, hypergradient, memory, mul, randomNormal, randomUniform, sigmoid, sub, tensor, tidy, type Tensor } from '../src/node.js';
import { setFusion } from '../src/ops/fusion/graph.js';
import { hypercleaningProblem } from '../src/experiments/hypercleaning-problem.js';
import { FEATURES, deviceExamples } from '../src/experiments/hypercleaning-data.js';
import type { DeviceExamples } from '../src/experiments/shared/examples.js';
import { toyProblem, TOY } from '../src/experiments/toy-problem.js';
import { copier, copyGBps, spread, timeTogether, type BenchRow, type BenchSection } from './util.js';

function examples(n: number, seed: number): DeviceExamples {
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = (i * 7 + seed) % 10;
  return deviceExamples(randomUniform([n, FEATURES], { seed, high: 0.3 }), labels);
}

/** Dispatches of one call of `fn`, its result computed (tidy() realises what it returns) and freed. */
function dispatchesOf(fn: () => unknown): number {
  const before = memory().dispatches;
  dispose(tidy(() => fn()));
  return memory().dispatches - before;
}

/** Runs fn with fusion on or off, restoring the setting. */
function withFusion<T>(on: boolean, fn: () => T): T {
  const prev = setFusion(on);
  try {
    return fn();
  } finally {
    setFusion(prev);
  }
}

/** Dispatches and interleaved timings of `fn` with fusion on and off: one row each. */
async function onOff(name: string, fn: () => unknown, opts: { reps: number; inner?: number }): Promise<{ rows: BenchRow[]; on: number; off: number }> {
  const on = withFusion(true, () => dispatchesOf(fn));
  const off = withFusion(false, () => dispatchesOf(fn));
  const [tOn, tOff] = await timeTogether([() => withFusion(true, fn) as Tensor, () => withFusion(false, fn) as Tensor], opts);
  return {
    on,
    off,
    rows: [
      { name: `${name}, fused`, ms: tOn!.median, rate: on, unit: 'dispatches', note: `${spread(tOn!)}` },
      { name: `${name}, unfused`, ms: tOff!.median, rate: off, unit: 'dispatches', note: `${spread(tOff!)}; fused/unfused time ${(tOn!.median / tOff!.median).toFixed(2)}` },
    ],
  };
}

async function stepRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const train = examples(5000, 1);
  const val = examples(1000, 2);
  const hc = hypercleaningProblem(train, val, { T: 100, gamma: 1, rho: 0.001 });
  const autodiffStep = gradientDescent(hc.inner!, 1);
  const lambda = randomNormal([5000], { seed: 3 });
  const w = randomNormal([10, FEATURES], { seed: 4, std: 0.01 });
  const ad = await onOff('hypercleaning inner step, autodiff (gradientDescent)', () => autodiffStep(w, lambda, 0), { reps: 9 });
  const hand = await onOff('hypercleaning inner step, written out', () => hc.step(w, lambda, 0), { reps: 9 });
  rows.push(...ad.rows, ...hand.rows);
  rows.push({ name: 'dispatches per autodiff inner step (fused)', ms: 0, rate: ad.on, unit: 'dispatches', target: '<= 6 (issue 12)', met: ad.on <= 6, note: `${ad.off} unfused; written out: ${hand.on} fused, ${hand.off} unfused` });
  // The toy: generic autodiff step against the hand-written one, w - gamma G (w - lambda).
  const toy = toyProblem();
  const G = tensor([...TOY.G]);
  const tw = tensor([0.3, -1.2]);
  const tl = tensor([1, 0.5]);
  const handStep = (x: Tensor, l: Tensor) => sub(x, mul(mul(G, sub(x, l)), TOY.gamma));
  const generic = await onOff('toy inner step, autodiff (gradientDescent)', () => toy.step(tw, tl, 0), { reps: 9, inner: 50 });
  const written = await onOff('toy inner step, hand-written', () => handStep(tw, tl), { reps: 9, inner: 50 });
  rows.push(...generic.rows, ...written.rows);
  const [gOn, wOn] = [generic.rows[0]!, written.rows[0]!];
  rows.push({ name: 'toy: generic autodiff step / hand-written step (fused, time)', ms: gOn.ms, rate: gOn.ms / wOn.ms, unit: 'x', target: '<= 1 (issue 12)', met: gOn.ms <= wOn.ms, note: `${generic.on} vs ${written.on} dispatches` });
  toy.dispose();
  dispose([train.x, train.yT, val.x, val.yT, lambda, w, G, tw, tl]);
  return rows;
}

async function chainRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of [1 << 20, 1 << 24]) {
    const label = n === 1 << 20 ? '1M' : '16M';
    const x = randomNormal([n], { seed: 3 });
    const y = randomNormal([n], { seed: 4 });
    const copy = copier(4 * n);
    // 2 reads and 1 write when fused; 6 kernels (each reading and writing) when not.
    const chain = () => mul(sigmoid(add(mul(x, y), 1)), exp(mul(x, -0.5)));
    const opts = { inner: n < 4e6 ? 8 : 1, reps: 11 };
    const [tOn, tOff, tCopy] = await timeTogether([() => withFusion(true, chain), () => withFusion(false, chain), copy.run], opts);
    const copyRate = copyGBps(4 * n, tCopy!);
    const bytes = 12 * n; // what the fused kernel must move
    const on = bytes / (tOn!.median * 1e6);
    const off = bytes / (tOff!.median * 1e6);
    rows.push(
      { name: `copy ${label} floats`, ms: tCopy!.median, rate: copyRate, unit: 'GB/s', ofCopy: 1, note: spread(tCopy!) },
      { name: `sigmoid(x*y+1)*exp(-x/2) ${label}, fused (1 kernel)`, ms: tOn!.median, rate: on, unit: 'GB/s', ofCopy: on / copyRate, target: '>= 50% of copy', met: on / copyRate >= 0.5, note: `2 reads + 1 write; ${spread(tOn!)}` },
      { name: `sigmoid(x*y+1)*exp(-x/2) ${label}, unfused (6 kernels)`, ms: tOff!.median, rate: off, unit: 'GB/s', ofCopy: off / copyRate, note: `same useful bytes; ${spread(tOff!)}; fused is ${(tOff!.median / tOn!.median).toFixed(2)}x faster` },
    );
    copy.free();
    dispose([x, y]);
  }
  return rows;
}

async function peakRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const train = examples(5000, 1);
  const val = examples(1000, 2);
  const hc = hypercleaningProblem(train, val, { T: 100, gamma: 1, rho: 0.001 });
  const problem = { ...hc, step: gradientDescent(hc.inner!, 1) };
  const lambda = randomNormal([5000], { seed: 3 });
  const cases = [['krmd K=5', { method: 'krmd', K: 5 }], ['rmd', { method: 'rmd' }]] as const;
  const run = async (opts: (typeof cases)[number][1], on: boolean) => {
    const prev = setFusion(on);
    try {
      const r = await hypergradient(problem, lambda, opts);
      dispose(r.grad);
      return r.stats;
    } finally {
      setFusion(prev);
    }
  };
  // A warm-up call of each (the fused kernels are compiled on first use), then one measured call
  // of each, fused and unfused in turn.
  for (const [, opts] of cases) for (const on of [true, false]) await run(opts, on);
  for (const [name, opts] of cases) {
    for (const on of [true, false]) {
      const stats = await run(opts, on);
      rows.push({ name: `${name} hypergradient, ${on ? 'fused' : 'unfused'}`, ms: stats.ms, rate: stats.peakBytes / 2 ** 20, unit: 'MiB peak', note: 'autodiff inner step, T = 100; one warm call' });
    }
  }
  dispose([train.x, train.yT, val.x, val.yT, lambda]);
  return rows;
}

export const fusion: BenchSection = {
  name: 'fusion',
  async run(): Promise<BenchRow[]> {
    return [...(await stepRows()), ...(await chainRows()), ...(await peakRows())];
  },
};
