// The data readers on the real data beside the repository (shared/data/): seconds to read the
// CIFAR-10 image-folder subset (20,000 JPEGs) and each Omniglot small split (PNGs decoded,
// area-averaged to 28x28, rotated), and one 5-way 1-shot task. CPU only; medians of BENCH_REPS
// (default 3) loads. Skipped rows say why when the shared data are not there.
import { loadCifar, defaultCifarSource } from '../src/data/cifar.js';
import { loadOmniglot, defaultOmniglotSources, type OmniglotSet } from '../src/data/omniglot.js';
import { sampleTask } from '../src/data/tasks.js';
import { mulberry32 } from '../src/data/random.js';
import { median, type BenchRow, type BenchSection } from './util.js';

async function timeLoads<T>(load: () => Promise<T>, reps: number): Promise<{ ms: number; min: number; max: number; last: T }> {
  const ms: number[] = [];
  let last: T | undefined;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    last = await load();
    ms.push(performance.now() - t);
  }
  return { ms: median(ms), min: Math.min(...ms), max: Math.max(...ms), last: last! };
}

/** The `data` bench section: reading the shared CIFAR-10 subset and Omniglot splits, sampling a task. */
export const data: BenchSection = {
  name: 'data',
  async run(): Promise<BenchRow[]> {
    const reps = Number(process.env.BENCH_REPS ?? 3);
    const rows: BenchRow[] = [];
    const range = (t: { min: number; max: number }) => `${reps} loads, ${(t.min / 1000).toFixed(1)}-${(t.max / 1000).toFixed(1)} s`;
    try {
      const c = await timeLoads(() => loadCifar(defaultCifarSource('cifar10'), 'cifar10'), reps);
      rows.push({ name: `CIFAR-10 subset: ${c.last.train.n + c.last.test.n} JPEGs from the image-folder zip`, ms: c.ms, note: range(c) });
    } catch (e) {
      rows.push({ name: 'CIFAR-10 subset', ms: NaN, note: `skipped: ${(e as Error).message.slice(0, 120)}` });
    }
    let set: OmniglotSet | null = null;
    try {
      const sources = defaultOmniglotSources();
      for (const [split, path] of Object.entries(sources)) {
        const o = await timeLoads(() => loadOmniglot(path), reps);
        set ??= o.last;
        const pngs = o.last.classes.reduce((a, k) => a + (k.rotation === 0 ? k.m : 0), 0);
        rows.push({ name: `Omniglot ${split} split: ${pngs} PNGs -> 28x28, 4 rotations`, ms: o.ms, note: range(o) });
      }
    } catch (e) {
      rows.push({ name: 'Omniglot small splits', ms: NaN, note: `skipped: ${(e as Error).message.slice(0, 120)}` });
    }
    if (set) {
      const random = mulberry32(1);
      const n = 200;
      const t = performance.now();
      for (let i = 0; i < n; i++) sampleTask(set, { k: 5, shots: 1, queries: 15, random });
      rows.push({ name: 'sampleTask 5-way 1-shot, 15 queries per class', ms: (performance.now() - t) / n, note: `mean of ${n}` });
    }
    return rows;
  },
};
