// `npm run bench -- vs-torch`: issue 12's workload (bench/hypercleaning-workload.ts) in hypertape
// and in PyTorch (bench/vs_torch.py) on the same arrays, for K = 1, 5 and full RMD. Both
// hypergradients are compared (a relative difference above the tolerance throws), then the two
// are timed in alternation (a hypertape call, then a PyTorch call for each thread count, the
// order rotated every repetition), and the medians and their ratios reported. PyTorch runs with
// torch.set_num_threads(2) (this machine's 2 cores; OpenBLAS's threads set alike) and also with 1
// thread: on a machine shared with other jobs one thread can be the faster, and the target
// compares hypertape with the faster of the two. Only the hypergradient is timed: on hypertape's side
// the hypergradient() call and the readback of h, on PyTorch's the function inside the Python
// process that was started once and has the data loaded. Without python3 + torch, only
// hypertape's numbers are printed, with the reason.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hypergradient, dispose, type Tensor } from '../src/node.js';
import { deviceWorkload, exportWorkload, makeWorkload, methodFor, type WorkloadOptions } from './hypercleaning-workload.js';
import { TorchWorker, torchAvailability } from './torch-worker.js';
import { fmt, median, type BenchRow, type BenchSection } from './util.js';

/** Options of {@link compareWithTorch}. */
export interface VsTorchOptions extends WorkloadOptions {
  /** Truncation depths; K = T is full RMD (default 1, 5, T). */
  Ks?: number[];
  /** Timed repetitions of every K on each side after one untimed call (default 5). */
  reps?: number;
  /** Largest accepted max |h_hypertape - h_torch| / max |h_torch| (default 1e-4). */
  tolerance?: number;
  /** PyTorch's thread counts, each timed (default [2, 1]: this machine's 2 cores, and 1). */
  torchThreads?: number[];
  /** false: hypertape only, even if torch is installed. */
  torch?: boolean;
}

/** One K's result. */
export interface VsTorchRow {
  /** Truncation depth (K = T: full RMD). */
  K: number;
  /** hypertape's ms per hypergradient, one per repetition. */
  hypertapeMs: number[];
  /** PyTorch's per thread count (torchMs[threads]; empty without torch). */
  torchMs: Record<number, number[]>;
  /** max |h_hypertape - h_torch| / max |h_torch|, the largest over the thread counts (NaN without torch). */
  maxRelDiff: number;
  /** |f_hypertape - f_torch| / |f_torch|. */
  valueRelDiff: number;
  /** hypertape's peak live bytes above the data, per hypergradient (HypergradientStats.peakBytes). */
  peakBytes: number;
  /** hypertape's dispatches per hypergradient. */
  dispatches: number;
}

/** What {@link compareWithTorch} measured. */
export interface VsTorchResult {
  /** One row per K, in the order asked. */
  rows: VsTorchRow[];
  /** torch.__version__, the thread counts and OpenBLAS library, or why PyTorch did not run. */
  torch: { version: string; threads: number[]; blas: string | null } | { reason: string };
  /** The workload's sizes. */
  settings: { nTrain: number; nVal: number; T: number };
}

/** Runs the comparison (see the file comment); throws if the hypergradients disagree. */
export async function compareWithTorch(o: VsTorchOptions = {}): Promise<VsTorchResult> {
  const w = makeWorkload(o);
  const T = w.settings.T;
  const Ks = o.Ks ?? [1, 5, T];
  const reps = o.reps ?? 5;
  const tolerance = o.tolerance ?? 1e-4;
  const threads = o.torchThreads ?? [2, 1];
  const check = o.torch === false ? { ok: false, reason: 'not asked for (torch: false)' } : torchAvailability();
  const dir = mkdtempSync(join(tmpdir(), 'hypertape-vs-torch-'));
  const gpu = deviceWorkload(w);
  let torch: TorchWorker | undefined;
  let keep = false; // the folder, when the two disagree
  try {
    if (check.ok) {
      exportWorkload(w, dir);
      torch = await TorchWorker.start(dir);
    }
    const rows: VsTorchRow[] = [];
    const runHypertape = async (K: number) => {
      const t0 = performance.now();
      const r = await hypergradient(gpu.problem, gpu.lambda, methodFor(K, T));
      const h = (await (r.grad as Tensor).data()) as Float32Array;
      const ms = performance.now() - t0;
      dispose(r.grad);
      return { ms, h, value: r.value, stats: r.stats };
    };
    // One untimed call of each K on each side, at each thread count (pipelines compiled, pools
    // filled, torch warmed up), whose hypergradients are compared.
    for (const K of Ks) {
      const ht = await runHypertape(K);
      const row: VsTorchRow = { K, hypertapeMs: [], torchMs: {}, maxRelDiff: NaN, valueRelDiff: NaN, peakBytes: ht.stats.peakBytes, dispatches: ht.stats.dispatches };
      for (const n of torch ? threads : []) {
        const out = join(dir, `h${K}-${n}threads.f32`);
        const pt = await torch!.hypergradient(K, n, out);
        const h = new Float32Array(new Uint8Array(readFileSync(out)).buffer);
        row.maxRelDiff = Math.max(maxRelDiff(ht.h, h, K), Number.isNaN(row.maxRelDiff) ? 0 : row.maxRelDiff);
        row.valueRelDiff = Math.max(Math.abs(ht.value - pt.value) / Math.abs(pt.value), Number.isNaN(row.valueRelDiff) ? 0 : row.valueRelDiff);
        if (!(row.maxRelDiff <= tolerance) || !(row.valueRelDiff <= tolerance)) {
          keep = true;
          throw new Error(`vs-torch: hypertape and PyTorch (${n} threads) disagree for K = ${K} (n = ${w.train.n}, T = ${T}): ` +
            `max |h_hypertape - h_torch| / max |h_torch| = ${row.maxRelDiff.toExponential(2)}, f ${ht.value} vs ${pt.value} ` +
            `(relative ${row.valueRelDiff.toExponential(2)}); the tolerance is ${tolerance}. One of the two computes something else: ` +
            `the exported arrays and PyTorch's h are kept in ${dir}.`);
        }
      }
      rows.push(row);
    }
    // Each repetition runs hypertape and PyTorch at each thread count once per K, in an order
    // rotated from one repetition to the next.
    const runners: ((row: VsTorchRow) => Promise<void>)[] = [
      async (row) => {
        row.hypertapeMs.push((await runHypertape(row.K)).ms);
      },
      ...(torch ? threads : []).map((n) => async (row: VsTorchRow) => {
        (row.torchMs[n] ??= []).push((await torch!.hypergradient(row.K, n)).ms);
      }),
    ];
    for (let r = 0; r < reps; r++) {
      for (const row of rows) {
        for (let i = 0; i < runners.length; i++) await runners[(i + r) % runners.length]!(row);
      }
    }
    return {
      rows,
      torch: torch ? { version: torch.torchVersion, threads, blas: torch.blas } : { reason: check.reason! },
      settings: { nTrain: w.train.n, nVal: w.val.n, T },
    };
  } finally {
    await torch?.close();
    gpu.dispose();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** max_i |a_i - b_i| / max_i |b_i|; throws on a length mismatch. */
export function maxRelDiff(a: Float32Array, b: Float32Array, K: number): number {
  if (a.length !== b.length) throw new Error(`vs-torch: K = ${K}: hypertape's h has ${a.length} entries, PyTorch's ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

let cached: VsTorchResult | undefined;

/**
 * The paper-scale comparison, run once per process: the `targets` section reuses what the
 * `vs-torch` section measured when both run (`npm run bench`). BENCH_VS_TORCH_REPS (default 5)
 * sets the repetitions, BENCH_VS_TORCH_N (default 5000) the training and validation examples (for
 * a quick look; the targets are stated for 5000).
 */
export async function paperScaleComparison(): Promise<VsTorchResult> {
  const n = Number(process.env.BENCH_VS_TORCH_N ?? 5000);
  cached ??= await compareWithTorch({ reps: Number(process.env.BENCH_VS_TORCH_REPS ?? 5), nTrain: n, nVal: n });
  return cached;
}

/** `full RMD` for K = T, else `K = k`. */
export function kLabel(K: number, T: number): string {
  return K === T ? `full RMD (K = ${T})` : `K = ${K}`;
}

/** PyTorch's fastest thread count for a row (by median), or undefined without torch. */
export function fastestTorch(row: VsTorchRow): { threads: number; ms: number } | undefined {
  let best: { threads: number; ms: number } | undefined;
  for (const [n, ms] of Object.entries(row.torchMs)) {
    const m = median(ms);
    if (!best || m < best.ms) best = { threads: Number(n), ms: m };
  }
  return best;
}

function range(xs: number[]): string {
  return `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))} ms over ${xs.length}`;
}

/** The `vs-torch` bench section: per K, hypertape's median and PyTorch's at each thread count, with the ratio. */
export const vsTorch: BenchSection = {
  name: 'vs-torch',
  async run(): Promise<BenchRow[]> {
    const res = await paperScaleComparison();
    const { nTrain, nVal, T } = res.settings;
    const who = 'version' in res.torch
      ? `PyTorch ${res.torch.version} (float32, OMP_WAIT_POLICY=PASSIVE) with torch.set_num_threads(n) and OpenBLAS at n threads (${res.torch.blas ?? 'no OpenBLAS found: BLAS threads left alone'}), n = ${res.torch.threads.join(' and ')}`
      : `PyTorch NOT run: ${res.torch.reason}`;
    console.log(`vs-torch: hypercleaning hypergradient, ${nTrain} + ${nVal} MNIST examples, W 10x785, T = ${T}, gamma 1, rho 0.001, lambda 0, ` +
      `the inner step gradientDescent with autodiff; ${who}. Timed in alternation; ms are medians; rate = hypertape / PyTorch.`);
    const rows: BenchRow[] = [];
    for (const row of res.rows) {
      const ht = median(row.hypertapeMs);
      rows.push({
        name: `${kLabel(row.K, T)}: hypertape`,
        ms: ht,
        note: `${range(row.hypertapeMs)}; ${row.dispatches} dispatches, ${fmt(row.peakBytes / 2 ** 20)} MiB peak` +
          (Number.isNaN(row.maxRelDiff) ? '; no PyTorch' : `; max |h - h_torch| / max |h_torch| ${row.maxRelDiff.toExponential(1)}`),
      });
      const best = fastestTorch(row);
      for (const [n, ms] of Object.entries(row.torchMs)) {
        const pt = median(ms);
        const isBest = best?.threads === Number(n);
        rows.push({
          name: `${kLabel(row.K, T)}: PyTorch, ${n} thread${n === '1' ? '' : 's'}`,
          ms: pt,
          rate: ht / pt,
          unit: 'x',
          ...(isBest ? { target: 'hypertape / fastest PyTorch <= 1.0', met: ht / pt <= 1 } : {}),
          note: range(ms),
        });
      }
    }
    return rows;
  },
};
