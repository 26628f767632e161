// One-shot Omniglot at the paper's settings (64 filters, 5-way, T = 50, Q = 5 per class, 28x28):
// seconds and peak GPU bytes of one hypergradient for 1-RMD, 10-RMD and full RMD, and issue 11's
// target (1-RMD under a third of full RMD's time and memory). The methods run in turn within each
// repetition, so a change of the machine's load hits all of them alike; medians are reported.
// The task is random images (the cost does not depend on the pixels).
import { dispose, type HypergradientOptions } from '../src/node.js';
import { initialHyper } from '../src/experiments/omniglot-net.js';
import { omniglotHypergradient, taskToDevice, disposeTask } from '../src/experiments/omniglot-problem.js';
import { mulberry32 } from '../src/data/random.js';
import { median, type BenchRow, type BenchSection } from './util.js';

export const omniglot: BenchSection = {
  name: 'omniglot',
  async run(): Promise<BenchRow[]> {
    const reps = Number(process.env.BENCH_REPS ?? 3);
    const filters = Number(process.env.BENCH_OMNIGLOT_FILTERS ?? 64);
    const [k, queries, size, T] = [5, 5, 28, 50];
    const r = mulberry32(11);
    const images = (n: number) => Float32Array.from({ length: n * size * size }, () => (r() < 0.2 ? 1 : 0));
    const labels = (n: number, per: number) => Uint8Array.from({ length: n }, (_, i) => Math.floor(i / per));
    const task = taskToDevice({ k, size, supportX: images(k), supportY: labels(k, 1), queryX: images(k * queries), queryY: labels(k * queries, queries) });
    const hyper = initialHyper({ k, filters, size }, { rho: 0.1, gamma: 0.3 }, mulberry32(12));
    const cases: [string, HypergradientOptions][] = [['1-RMD', { method: 'krmd', K: 1 }], ['10-RMD', { method: 'krmd', K: 10 }], ['full RMD', { method: 'rmd' }]];
    const ms = new Map<string, number[]>(cases.map(([n]) => [n, []]));
    const peak = new Map<string, number>();
    for (let rep = -1; rep < reps; rep++) {
      for (const [name, opts] of cases) {
        const h = await omniglotHypergradient(task, hyper, { T, regularised: true }, opts);
        dispose(h.grad);
        if (rep < 0) continue; // warm-up: pipelines compiled, pool filled
        ms.get(name)!.push(h.stats.ms);
        peak.set(name, Math.max(peak.get(name) ?? 0, h.stats.peakBytes));
      }
    }
    const rows: BenchRow[] = cases.map(([name]) => ({
      name: `${name}, ${filters} filters, T = ${T}`, ms: median(ms.get(name)!), rate: peak.get(name)! / 2 ** 20, unit: 'MiB peak',
      note: `ms of the ${reps} repetitions: ${ms.get(name)!.map((x) => x.toFixed(0)).join(', ')}`,
    }));
    const [one, full] = [rows[0]!, rows[2]!];
    rows.push(
      { name: '1-RMD / full RMD time', ms: one.ms, rate: one.ms / full.ms, unit: 'x', target: '< 1/3', met: one.ms / full.ms < 1 / 3 },
      { name: '1-RMD / full RMD peak bytes', ms: one.ms, rate: one.rate! / full.rate!, unit: 'x', target: '< 1/3', met: one.rate! / full.rate! < 1 / 3 },
    );
    dispose(hyper);
    disposeTask(task);
    return rows;
  },
};
