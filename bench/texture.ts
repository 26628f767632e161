// The texture reads of CPU adapters (src/ops/kernels/matrix-texture.ts) on the workload of the
// speed issue: one paper-scale hypercleaning hypergradient (the vs-torch section's data and
// problem, autodiff inner step), with the plain 'rows' kernel forced against the automatic choice
// (A read from X's texture copy once X has been read often), timed in alternation. Both give the
// same hypergradient; the section checks that.
import { dispose, forceMatmulVariant, hypergradient, type HypergradientOptions } from '../src/node.js';
import { deviceWorkload, makeWorkload } from './hypercleaning-workload.js';
import { median, type BenchRow, type BenchSection } from './util.js';

const REPS = 5;

async function textureRows(): Promise<BenchRow[]> {
  const w = deviceWorkload(makeWorkload());
  try {
    const cases: [string, HypergradientOptions][] = [['K-RMD K = 5', { method: 'krmd', K: 5 }], ['full RMD', { method: 'rmd' }]];
    const run = async (opts: HypergradientOptions, plain: boolean): Promise<{ ms: number; grad: number[] }> => {
      forceMatmulVariant(plain ? 'rows' : null);
      try {
        const t0 = performance.now();
        const r = await hypergradient(w.problem, w.lambda, opts);
        const grad = Array.from(await r.grad.data());
        const ms = performance.now() - t0;
        dispose(r.grad);
        return { ms, grad };
      } finally {
        forceMatmulVariant(null);
      }
    };
    const rows: BenchRow[] = [];
    for (const [name, opts] of cases) {
      // Warm-up of both: pipelines, and X's texture copy (made on X's eighth read).
      const [p0, t0] = [await run(opts, true), await run(opts, false)];
      const diff = Math.max(...p0.grad.map((v, i) => Math.abs(v - t0.grad[i]!))) / Math.max(...p0.grad.map(Math.abs));
      if (!(diff <= 1e-5)) throw new Error(`texture: ${name}: the hypergradients differ (max relative difference ${diff})`);
      const plain: number[] = [];
      const tex: number[] = [];
      for (let r = 0; r < REPS; r++) {
        plain.push((await run(opts, true)).ms);
        tex.push((await run(opts, false)).ms);
      }
      rows.push(
        { name: `${name}, plain 'rows' kernel`, ms: median(plain), note: `${Math.min(...plain).toFixed(0)}-${Math.max(...plain).toFixed(0)} ms over ${REPS}` },
        {
          name: `${name}, A from X's texture copy`, ms: median(tex), rate: median(plain) / median(tex), unit: 'x faster',
          note: `${Math.min(...tex).toFixed(0)}-${Math.max(...tex).toFixed(0)} ms over ${REPS}; max |difference| / max |h| ${diff.toExponential(1)}`,
        },
      );
    }
    return rows;
  } finally {
    w.dispose();
  }
}

export const texture: BenchSection = { name: 'texture', run: textureRows };
