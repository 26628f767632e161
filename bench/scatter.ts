// scatterAdd (gather's VJP) by the gather-sum kernels (src/ops/kernels/scatter.ts) against the
// one-hot matmul it replaced (oneHot(indices)^T @ values, rebuilt here from the library's ops),
// timed in alternation on the same data. The one-hot product costs O(J D A B); the gather-sum
// O(J + C D) for the inverse index and O(A J B + A D B) for the sums.
import { engine, matmul, oneHot, randomUniform, reshape, scatterAdd, tensor, dispose } from '../src/node.js';
import { mulberry32 } from '../src/data/random.js';
import { spread, timeTogether, type BenchRow, type BenchSection } from './util.js';

interface Case {
  label: string;
  /** Values [A, J, B] added into [A, D, B]. */
  A: number;
  J: number;
  B: number;
  D: number;
}

const CASES: Case[] = [
  { label: '5,000 values into 10 classes', A: 1, J: 5000, B: 1, D: 10 },
  { label: '5,000 rows of 64 into 1,000', A: 1, J: 5000, B: 64, D: 1000 },
  { label: '100,000 values into 300', A: 1, J: 100_000, B: 1, D: 300 },
  { label: '1M values into 1,000', A: 1, J: 1_000_000, B: 1, D: 1000 },
  { label: '200,000 rows of 8 into 20,000', A: 1, J: 200_000, B: 8, D: 20_000 },
];

export const scatter: BenchSection = {
  name: 'scatter',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const c of CASES) {
      const r = mulberry32(7);
      const g = randomUniform([c.A, c.J, c.B], { seed: 5 });
      const idx = tensor(Int32Array.from({ length: c.J }, () => Math.floor(r() * c.D)));
      const kernel = () => scatterAdd(g, idx, 1, c.D);
      const oneHotMatmul = () => reshape(matmul(oneHot(idx, c.D), g, { transA: true }), [c.A, c.D, c.B]);
      // The one-hot matrix [J, D] must fit one binding; past that the old way could not run at all.
      const fits = 4 * c.J * c.D <= engine().maxBindingBytes;
      // Small cases run 20 calls per repetition, so that timer and sync overhead do not dominate.
      const [tk, to] = await timeTogether(fits ? [kernel, oneHotMatmul] : [kernel], { warmup: 1, reps: 9, inner: c.J * c.B <= 10_000 ? 20 : 1 });
      dispose([g, idx]);
      rows.push({ name: `scatterAdd ${c.label}: gather-sum`, ms: tk!.median, note: `2 dispatches; ${spread(tk!)}` });
      if (!to) {
        rows.push({ name: '  the one-hot matmul it replaced', ms: NaN, note: `cannot run: a ${c.J} x ${c.D} one-hot matrix is over the ${engine().maxBindingBytes} bytes of one binding` });
        continue;
      }
      rows.push({
        name: `  the one-hot matmul it replaced`,
        ms: to!.median,
        rate: to!.median / tk!.median,
        unit: 'x gather-sum',
        note: `${spread(to!)}`,
      });
    }
    return rows;
  },
};
