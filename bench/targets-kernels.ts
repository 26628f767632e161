// Issue 12's kernel targets, measured against a plain buffer copy on the same adapter:
//   (c) elementwise and reduction kernels >= 50% of the copy bandwidth at 1M and 16M floats;
//   (d) the skinny products of the hypercleaning problem >= 2x the GFLOP/s of commit c7a3b1f
//       (whose kernel for them is kept in bench/reference-matmul.ts and timed alongside).
// Every op is timed in alternation with the copy (timeTogether), after checking that it
// dispatches a kernel (bench/realised.ts), so the section keeps measuring what it says while
// the ops layer changes under it.
import { add, exp, matmul, randomNormal, sigmoid, sum, dispose, tidy, type Tensor } from '../src/node.js';
import { NOT_REALISED, realiseNow, timeChecked } from './realised.js';
import { referenceSkinnyProduct, type ReferenceProduct } from './reference-matmul.js';
import { copier, copyGBps, fmt, spread, time, type BenchRow } from './util.js';

/** One of the products the hypercleaning problem runs (X is [5000, 785], W [10, 785]). */
interface Skinny {
  /** The product as M x K . K x N, and what it is in the problem. */
  label: string;
  /** Stored operand shapes and transpose flags, as the problem calls matmul. */
  a: [number, number];
  b: [number, number];
  transA?: boolean;
  transB?: boolean;
}

const SKINNY: Skinny[] = [
  { label: '5000x785 . 785x10 (X W^T)', a: [5000, 785], b: [785, 10] },
  { label: '10x785 . 785x5000 (W X^T, the scores)', a: [10, 785], b: [5000, 785], transB: true },
  { label: '10x5000 . 5000x785 (R X, the gradient in W)', a: [10, 5000], b: [5000, 785] },
  { label: '785x5000 . 5000x10 (X^T G)', a: [5000, 785], b: [5000, 10], transA: true },
];

function dims(c: Skinny): { M: number; K: number; N: number } {
  return {
    M: c.transA ? c.a[1] : c.a[0],
    K: c.transA ? c.a[0] : c.a[1],
    N: c.transB ? c.b[0] : c.b[1],
  };
}

/**
 * (d): GFLOP/s of each skinny product, against commit c7a3b1f's kernel for it (kept frozen in
 * bench/reference-matmul.ts and timed in alternation with today's matmul and a copy of the same
 * bytes); target: today's >= 2x c7a3b1f's. On this machine (lavapipe, 2 shared cores, load
 * average 3-7) c7a3b1f's products measured 2.4-13 GFLOP/s from run to run: a constant baseline
 * would say little, a side-by-side ratio is steadier (though at load 12 the same kernel on both
 * sides still measured ratios of 0.64-1.5 with 9 repetitions; hence 15).
 */
export async function skinnyRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of SKINNY) {
    const { M, K, N } = dims(c);
    const a = randomNormal(c.a, { seed: 1 });
    const b = randomNormal(c.b, { seed: 2 });
    const bytes = 4 * (M * K + K * N + M * N); // read A and B, write C
    const copy = copier(bytes / 2); // moves bytes / 2 read + bytes / 2 written
    let reference: ReferenceProduct | undefined;
    let why = '';
    try {
      realiseNow(a);
      realiseNow(b);
      const product = () => matmul(a, b, { transA: c.transA, transB: c.transB });
      try {
        reference = referenceSkinnyProduct(a.buffer, c.a, b.buffer, c.b, !!c.transA, !!c.transB);
      } catch (e) {
        why = (e as Error).message;
      }
      if (reference) await checkReference(reference, product, c.label);
      const r = await timeChecked(reference ? [product, reference.run] : [product], { reps: 15, inner: 2 }, [copy.run]);
      const [mm, ref] = r.checked;
      const tCopy = r.yardsticks[0]!;
      const flops = 2 * M * N * K;
      const target = '>= 2x c7a3b1f\'s GFLOP/s';
      if (!mm!.timing) {
        rows.push({ name: `matmul ${c.label}`, ms: NaN, target, met: false, note: NOT_REALISED });
        continue;
      }
      const t = mm!.timing;
      const gflops = flops / (t.median * 1e6);
      const row: BenchRow = { name: `matmul ${c.label}`, ms: t.median, rate: gflops, unit: 'GFLOP/s', ofCopy: tCopy.median / t.median, target };
      const tail = `copy of the same ${(bytes / 1e6).toFixed(1)} MB ${fmt(tCopy.median)} ms; ${mm!.dispatches} dispatch(es); ${spread(t)}`;
      if (ref?.timing) {
        const base = flops / (ref.timing.median * 1e6);
        row.met = gflops >= 2 * base;
        row.note = `${fmt(gflops / base)}x c7a3b1f's ${fmt(base)} GFLOP/s (${fmt(ref.timing.median)} ms, of copy ${(100 * tCopy.median / ref.timing.median).toFixed(0)}%); ${tail}`;
      } else {
        row.met = false;
        row.note = `no baseline: ${why || 'the reference kernel dispatched nothing'}; ${tail}`;
      }
      rows.push(row);
    } finally {
      reference?.free();
      copy.free();
      dispose([a, b]);
    }
  }
  return rows;
}

/** Throws unless the frozen kernel computes what the library's matmul does (to 1e-4 of max |C|). */
async function checkReference(reference: ReferenceProduct, product: () => Tensor, label: string): Promise<void> {
  reference.run();
  const want = await reference.read();
  const c = tidy(product);
  const got = (await c.data()) as Float32Array;
  c.dispose();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  if (!(diff <= 1e-4 * scale) || got.length !== want.length) {
    throw new Error(`targets: c7a3b1f's reference kernel and today's matmul differ on ${label}: max |diff| ${diff} for max |C| ${scale} ` +
      `(${got.length} vs ${want.length} values); bench/reference-matmul.ts no longer dispatches what it should`);
  }
}

/** An elementwise or reduction op on n floats and the bytes it must move (reads + writes). */
interface BandwidthOp {
  name: string;
  make(n: number): { run: () => Tensor; inputs: Tensor[] };
  bytes(n: number): number;
}

const COLS = 256;

const BANDWIDTH_OPS: BandwidthOp[] = [
  binary('add (2 reads, 1 write)', (x, y) => add(x, y), 12),
  unary('exp (1 read, 1 write)', exp, 8),
  unary('sigmoid (1 read, 1 write)', sigmoid, 8),
  unary('sum of all (reads only)', (x) => sum(x), 4),
  {
    name: `sum over rows of [n/${COLS}, ${COLS}] (axis 1)`,
    make: (n) => {
      const x = randomNormal([n / COLS, COLS], { seed: 5 });
      return { run: () => sum(x, 1), inputs: [x] };
    },
    bytes: (n) => 4 * n + (4 * n) / COLS,
  },
  {
    name: `sum down columns of [${COLS}, n/${COLS}] (axis 0)`,
    make: (n) => {
      const x = randomNormal([COLS, n / COLS], { seed: 6 });
      return { run: () => sum(x, 0), inputs: [x] };
    },
    bytes: (n) => 4 * n + (4 * n) / COLS,
  },
];

function unary(name: string, f: (x: Tensor) => Tensor, bytesPerFloat: number): BandwidthOp {
  return {
    name,
    make: (n) => {
      const x = randomNormal([n], { seed: 3 });
      return { run: () => f(x), inputs: [x] };
    },
    bytes: (n) => bytesPerFloat * n,
  };
}

function binary(name: string, f: (x: Tensor, y: Tensor) => Tensor, bytesPerFloat: number): BandwidthOp {
  return {
    name,
    make: (n) => {
      const x = randomNormal([n], { seed: 3 });
      const y = randomNormal([n], { seed: 4 });
      return { run: () => f(x, y), inputs: [x, y] };
    },
    bytes: (n) => bytesPerFloat * n,
  };
}

/** (c): each op's GB/s as a fraction of a copy's, at 1M and 16M floats; target >= 50%. */
export async function bandwidthRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of [1 << 20, 1 << 24]) {
    const label = n === 1 << 20 ? '1M' : '16M';
    const copy = copier(4 * n);
    const opts = { inner: n < 4e6 ? 8 : 1, reps: 9 };
    const tCopy = await time(copy.run, opts);
    const copyRate = copyGBps(4 * n, tCopy);
    rows.push({ name: `copy ${label} floats (the yardstick)`, ms: tCopy.median, rate: copyRate, unit: 'GB/s', ofCopy: 1, note: `read + write of ${(4 * n / 1e6).toFixed(1)} MB; ${spread(tCopy)}` });
    for (const op of BANDWIDTH_OPS) {
      const { run, inputs } = op.make(n);
      inputs.forEach(realiseNow);
      try {
        // The op and the copy in alternation, so load from other processes falls on both alike.
        const r = await timeChecked([run], opts, [copy.run]);
        const t = r.checked[0];
        const opCopyRate = copyGBps(4 * n, r.yardsticks[0]!);
        const target = '>= 50% of copy';
        if (!t!.timing) {
          rows.push({ name: `${op.name} ${label}`, ms: NaN, target, met: false, note: NOT_REALISED });
          continue;
        }
        const rate = op.bytes(n) / (t!.timing.median * 1e6);
        rows.push({
          name: `${op.name} ${label}`,
          ms: t!.timing.median,
          rate,
          unit: 'GB/s',
          ofCopy: rate / opCopyRate,
          target,
          met: rate / opCopyRate >= 0.5,
          note: `copy in alternation ${fmt(opCopyRate)} GB/s; ${t!.dispatches} dispatch(es); ${spread(t!.timing)}`,
        });
      } finally {
        dispose(inputs);
      }
    }
    copy.free();
  }
  return rows;
}
