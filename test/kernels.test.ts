// Every kernel against the float64 reference (test/reference.ts) on random shapes, including
// dims of 1, primes, sizes that are not multiples of 4 or of the workgroup size (64), and
// dispatches of more than 65,535 workgroups. Inputs are rounded to f32 before the reference sees
// them, so the tolerances below measure only the kernels' own f32 error; each is stated where
// it is used, with the reason for its size.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, type Tensor } from '../src/node.js';
import { forceMatmulVariant, matmulVariants } from '../src/ops/kernels/matmul.js';
import { launchTuning } from '../src/ops/kernels/template.js';
import { setup, rng } from './helpers.js';
import * as R from './reference.js';
import type { Ref } from './reference.js';

const s = suite('kernels');
s.before(setup);

const EPS = 2 ** -23; // f32 machine epsilon (one ulp at 1.0)

// ---- inputs and checks --------------------------------------------------------------------------

/** Uniform values in [lo, hi), rounded to f32 so the reference starts from the GPU's inputs. */
function randRef(shape: readonly number[], seed: number, lo = -1, hi = 1): Ref {
  const r = rng(seed);
  const data = new Float64Array(R.size(shape));
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(lo + (hi - lo) * r());
  return { shape: [...shape], data };
}

// Inputs made by gpu() are freed after each test; results are freed by check().
const made: Tensor[] = [];
s.after.each(() => {
  ht.dispose(made.splice(0));
});
// The large-dispatch tests leave hundreds of MB in the buffer pool; later suites do not need them.
s.after(() => ht.engine().trimPool());

function gpu(x: Ref): Tensor {
  const t = tensor(Float32Array.from(x.data), x.shape);
  made.push(t);
  return t;
}

/**
 * Fails with the worst element unless |actual - expected| <= atol + rtol * |expected| everywhere.
 * `result` may be a function (run inside tidy(), so an op's temporaries are freed); it is disposed.
 */
async function check(result: Tensor | (() => Tensor), expected: Ref, tol: { rtol?: number; atol?: number | ArrayLike<number> }, what: string): Promise<void> {
  const t = typeof result === 'function' ? ht.tidy(result) : result;
  assert.equal([...t.shape], expected.shape, `${what}: shape`);
  const got = await t.data();
  t.dispose();
  const rtol = tol.rtol ?? 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!;
    const b = expected.data[i]!;
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    const atol = typeof tol.atol === 'number' ? tol.atol : (tol.atol?.[i] ?? 0);
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    const atol = typeof tol.atol === 'number' ? tol.atol : (tol.atol?.[worst] ?? 0);
    assert.unreachable(`${what}: element ${worst} of [${expected.shape}] is ${got[worst]}, expected ${expected.data[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Same values exactly (copies, gathers, comparisons, max). */
async function checkExact(result: Tensor | (() => Tensor), expected: Ref, what: string): Promise<void> {
  await check(result, expected, { rtol: 0, atol: 0 }, what);
}

// Awkward sizes: 1, primes, one past and one short of multiples of 4 and of the workgroup (64).
const DIMS = [1, 2, 3, 5, 7, 13, 31, 63, 65, 127];

/** A random shape of the given rank whose size stays below `maxSize`. */
function randomShape(r: () => number, rank: number, maxSize = 40000): number[] {
  for (;;) {
    const shape = Array.from({ length: rank }, () => DIMS[Math.floor(r() * DIMS.length)]!);
    if (R.size(shape) <= maxSize) return shape;
  }
}

/** A shape that broadcasts to `out`: some leading dims dropped, some dims set to 1. */
function broadcastableTo(r: () => number, out: readonly number[]): number[] {
  const drop = Math.floor(r() * (out.length + 1) * 0.5);
  return out.slice(drop).map((d) => (r() < 0.35 ? 1 : d));
}

const randomPermutation = (r: () => number, n: number): number[] => {
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
};

// ---- unary ----------------------------------------------------------------------------------------

// Per op: the input range and the tolerance. Exact-arithmetic ops (neg, abs, relu, sign, square)
// are correctly rounded; the transcendental ones get a few ulp plus an absolute floor where the
// result can cancel to near zero.
const UNARY_CASES: Record<string, { lo: number; hi: number; rtol: number; atol: number }> = {
  neg: { lo: -5, hi: 5, rtol: 0, atol: 0 },
  abs: { lo: -5, hi: 5, rtol: 0, atol: 0 },
  sign: { lo: -5, hi: 5, rtol: 0, atol: 0 },
  relu: { lo: -5, hi: 5, rtol: 0, atol: 0 },
  square: { lo: -5, hi: 5, rtol: EPS, atol: 0 }, // one rounding
  sqrt: { lo: 0, hi: 100, rtol: 4 * EPS, atol: 0 }, // WGSL: 2.5 ulp (1 / inverseSqrt)
  // WGSL bounds exp by 3 + 2|x| ulp; on [-10, 10] that is 23 ulp.
  exp: { lo: -10, hi: 10, rtol: 23 * EPS, atol: 0 },
  // WGSL: 3 ulp, or 2^-21 absolute on [0.5, 2] where log is near 0.
  log: { lo: 1e-3, hi: 50, rtol: 3 * EPS, atol: 2 ** -21 },
  // Range reduction by pi/2 plus a minimax polynomial (shaders/trig.wgsl): a few ulp of 1.
  sin: { lo: -20, hi: 20, rtol: 0, atol: 4 * EPS },
  cos: { lo: -20, hi: 20, rtol: 0, atol: 4 * EPS },
  // tanh, sigmoid, softplus and log-sigmoid are built from exp, log and a division.
  tanh: { lo: -6, hi: 6, rtol: 16 * EPS, atol: 4 * EPS },
  sigmoid: { lo: -12, hi: 12, rtol: 32 * EPS, atol: 0 },
  softplus: { lo: -12, hi: 12, rtol: 16 * EPS, atol: 4 * EPS },
  logSigmoid: { lo: -12, hi: 12, rtol: 16 * EPS, atol: 4 * EPS },
};

s('unary ops match the reference on random shapes', async () => {
  const r = rng(11);
  for (const [name, c] of Object.entries(UNARY_CASES)) {
    for (const rank of [0, 1, 3]) {
      const shape = randomShape(r, rank);
      const x = randRef(shape, Math.floor(r() * 1e9), c.lo, c.hi);
      const fn = (ht as unknown as Record<string, (t: Tensor) => Tensor>)[name]!;
      await check(fn(gpu(x)), R.unary(name, x), c, `${name} on [${shape}]`);
    }
  }
});

// Large |x|: the stable formulations must neither overflow to inf/NaN nor lose the tails.
s('sigmoid, softplus, logSigmoid and tanh are stable at large |x|', async () => {
  const xs = [-100, -50, -30, -15, 0, 15, 30, 50, 100];
  const x = R.ref(xs, [xs.length]);
  for (const name of ['sigmoid', 'softplus', 'logSigmoid', 'tanh']) {
    const fn = (ht as unknown as Record<string, (t: Tensor) => Tensor>)[name]!;
    const got = Array.from(await fn(gpu(x)).data());
    assert.ok(got.every(Number.isFinite), `${name}(${xs}) has a non-finite value: ${got}`);
    // Tails below f32's normal range (e^-100) may flush to zero: absolute 1e-30.
    await check(fn(gpu(x)), R.unary(name, x), { rtol: 16 * EPS, atol: 1e-30 }, `${name} at large |x|`);
  }
});

// ---- binary, comparisons, where --------------------------------------------------------------------

const BINARY_CASES: Record<string, { lo: number; hi: number; blo?: number; bhi?: number; rtol: number; atol: number }> = {
  add: { lo: -5, hi: 5, rtol: EPS, atol: 0 },
  sub: { lo: -5, hi: 5, rtol: EPS, atol: 0 },
  mul: { lo: -5, hi: 5, rtol: EPS, atol: 0 },
  div: { lo: -5, hi: 5, blo: 0.5, bhi: 5, rtol: 3 * EPS, atol: 0 }, // WGSL: 2.5 ulp
  // WGSL's pow is exp2(b * log2(a)): its error grows with |b log2 a| (here up to about 10).
  pow: { lo: 0.05, hi: 4, blo: -3, bhi: 3, rtol: 64 * EPS, atol: 0 },
  maximum: { lo: -5, hi: 5, rtol: 0, atol: 0 },
  minimum: { lo: -5, hi: 5, rtol: 0, atol: 0 },
};

s('binary ops match the reference with NumPy broadcasting', async () => {
  const r = rng(12);
  for (const [name, c] of Object.entries(BINARY_CASES)) {
    for (let trial = 0; trial < 4; trial++) {
      const out = randomShape(r, 1 + Math.floor(r() * 4));
      const [sa, sb] = trial === 0 ? [out, out] : [broadcastableTo(r, out), broadcastableTo(r, out)];
      const a = randRef(sa, Math.floor(r() * 1e9), c.lo, c.hi);
      const b = randRef(sb, Math.floor(r() * 1e9), c.blo ?? c.lo, c.bhi ?? c.hi);
      const fn = (ht as unknown as Record<string, (a: Tensor, b: Tensor) => Tensor>)[name]!;
      await check(fn(gpu(a), gpu(b)), R.binary(name, a, b), c, `${name}([${sa}], [${sb}])`);
    }
  }
});

s('pow handles negative bases with integer exponents, and zero', async () => {
  const a = R.ref([-2, -2, -3, 0, 0, 2, -1.5], [7]);
  const b = R.ref([2, 3, 1, 2, 0, -1, 2], [7]);
  await check(ht.pow(gpu(a), gpu(b)), R.binary('pow', a, b), { rtol: 8 * EPS, atol: 0 }, 'pow special cases');
  assert.ok(Number.isNaN(await ht.pow(tensor([-2]), tensor([0.5])).item()), 'a negative base to a fractional power is NaN');
});

s('binary ops accept numbers on either side', async () => {
  const x = randRef([5, 7], 3);
  await check(ht.sub(2.5, gpu(x)), R.binary('sub', R.ref([2.5], []), x), { rtol: EPS, atol: 0 }, '2.5 - x');
  await check(ht.div(gpu(x), 4), R.binary('div', x, R.ref([4], [])), { rtol: 3 * EPS, atol: 0 }, 'x / 4');
});

s('comparisons give exact 0/1 with broadcasting, ties included', async () => {
  const r = rng(13);
  for (const name of ['less', 'lessEqual', 'greater', 'greaterEqual', 'equal', 'notEqual']) {
    const out = randomShape(r, 3);
    const sa = broadcastableTo(r, out);
    // Values on a coarse grid so that ties happen often.
    const a = randRef(sa, Math.floor(r() * 1e9), -2, 2);
    a.data = a.data.map((v) => Math.round(v * 2) / 2);
    const b = randRef(out, Math.floor(r() * 1e9), -2, 2);
    b.data = b.data.map((v) => Math.round(v * 2) / 2);
    const fn = (ht as unknown as Record<string, (a: Tensor, b: Tensor) => Tensor>)[name]!;
    await checkExact(fn(gpu(a), gpu(b)), R.binary(name, a, b), `${name}([${sa}], [${out}])`);
  }
});

s('where selects with a broadcast condition', async () => {
  const r = rng(14);
  for (let trial = 0; trial < 6; trial++) {
    const out = randomShape(r, 1 + Math.floor(r() * 3));
    const c = randRef(broadcastableTo(r, out), Math.floor(r() * 1e9));
    c.data = c.data.map((v) => (v > 0 ? 1 : 0));
    const a = randRef(broadcastableTo(r, out), Math.floor(r() * 1e9));
    const b = randRef(out, Math.floor(r() * 1e9));
    await checkExact(ht.where(gpu(c), gpu(a), gpu(b)), R.where(c, a, b), `where([${c.shape}], [${a.shape}], [${b.shape}])`);
  }
});

// ---- reductions ---------------------------------------------------------------------------------

/** Every non-empty subset of the axes of a rank-n tensor, plus "all" (undefined). */
function axisSets(rank: number): (number[] | undefined)[] {
  const out: (number[] | undefined)[] = [undefined];
  for (let m = 1; m < 1 << rank; m++) out.push([...Array(rank).keys()].filter((a) => m & (1 << a)));
  return out;
}

// A sum of R f32 values is off by at most about sqrt(R) rounding errors of the running total in
// practice (R eps worst case): tolerance 4 sqrt(R) eps times the sum of |x| being reduced.
function sumTolerance(x: Ref, axes: number[] | undefined, keepdims: boolean): Float64Array {
  const absSum = R.reduce('sum', { shape: x.shape, data: x.data.map(Math.abs) }, axes, keepdims);
  const count = x.data.length / Math.max(1, absSum.data.length);
  return absSum.data.map((v) => 4 * Math.sqrt(count) * EPS * v + 1e-30);
}

s('sum, mean, max and logsumexp over every set of axes, with and without keepdims', async () => {
  const r = rng(15);
  for (const rank of [1, 2, 3, 4]) {
    const shape = randomShape(r, rank, 30000);
    const x = randRef(shape, Math.floor(r() * 1e9), -3, 3);
    const xt = gpu(x);
    for (const axes of axisSets(rank)) {
      for (const keepdims of [false, true]) {
        const what = (op: string) => `${op}([${shape}], axes ${axes ? `[${axes}]` : 'all'}, keepdims ${keepdims})`;
        const tol = sumTolerance(x, axes, keepdims);
        await check(ht.sum(xt, axes, keepdims), R.reduce('sum', x, axes, keepdims), { atol: tol }, what('sum'));
        const count = x.data.length / Math.max(1, tol.length);
        await check(() => ht.mean(xt, axes, keepdims), R.reduce('mean', x, axes, keepdims), { atol: tol.map((v) => v / count), rtol: 2 * EPS }, what('mean'));
        await checkExact(ht.max(xt, axes, keepdims), R.reduce('max', x, axes, keepdims), what('max'));
        // log of a sum of terms in (0, 1] with at least one 1: relative error of the sum becomes
        // an absolute error of the log.
        await check(() => ht.logsumexp(xt, axes, keepdims), R.reduce('logsumexp', x, axes, keepdims), { atol: 4 * Math.sqrt(count) * EPS + 32 * EPS, rtol: 4 * EPS }, what('logsumexp'));
      }
    }
  }
});

s('reductions along long rows (the two-stage tree path) and along strided columns', async () => {
  const cases: [number[], number[]][] = [
    [[3, 1000], [1]], // rows >= 256: tree reduction, a few rows split into chunks
    [[100, 2053], [1]], // many rows, prime length
    [[1, 70001], [0, 1]], // one long row split across workgroups
    [[2053, 5], [0]], // a long strided column
    [[7, 300, 3], [1]], // middle axis
    [[2, 4096], [1]], // rows of a multiple of 4: read as vec4, split into chunks
    [[5, 7, 8], [1]], // 8 columns: four outputs per unit (vec4)
    [[3, 12], [0]],
  ];
  for (const [shape, axes] of cases) {
    const x = randRef(shape, R.size(shape), -3, 3);
    const xt = gpu(x);
    await check(ht.sum(xt, axes), R.reduce('sum', x, axes), { atol: sumTolerance(x, axes, false) }, `sum([${shape}], [${axes}])`);
    await checkExact(ht.max(xt, axes), R.reduce('max', x, axes), `max([${shape}], [${axes}])`);
    if (axes.length === 1) await checkExact(ht.argmax(xt, axes[0]), R.reduce('argmax', x, axes[0]), `argmax([${shape}], ${axes[0]})`);
  }
});

s('argmax along each axis returns the first maximum', async () => {
  const r = rng(16);
  for (let trial = 0; trial < 4; trial++) {
    const shape = randomShape(r, 3);
    const x = randRef(shape, Math.floor(r() * 1e9));
    // A coarse grid makes ties, where the first index must win.
    x.data = x.data.map((v) => Math.round(v * 3));
    for (let axis = 0; axis < 3; axis++) await checkExact(ht.argmax(gpu(x), axis), R.reduce('argmax', x, axis), `argmax([${shape}], ${axis})`);
  }
});

s('softmax and logSoftmax along each axis', async () => {
  const r = rng(17);
  for (const rank of [1, 2, 3]) {
    const shape = randomShape(r, rank, 20000);
    const x = randRef(shape, Math.floor(r() * 1e9), -8, 8);
    for (let axis = -rank; axis < rank; axis++) {
      const n = shape[(axis + rank) % rank]!;
      // Values in (0, 1]: the error of the normaliser (about sqrt(n) eps relative) carries over.
      await check(() => ht.softmax(gpu(x), axis), R.softmax(x, axis), { rtol: (4 * Math.sqrt(n) + 32) * EPS, atol: 1e-30 }, `softmax([${shape}], ${axis})`);
      await check(() => ht.logSoftmax(gpu(x), axis), R.logSoftmax(x, axis), { atol: (4 * Math.sqrt(n) + 64) * EPS, rtol: 4 * EPS }, `logSoftmax([${shape}], ${axis})`);
    }
  }
});

s('logsumexp and logSoftmax are stable for inputs near 1e4 and -1e4', async () => {
  const x = R.ref([1e4, 1e4 - 1, 1e4 - 30, -1e4, -1e4 + 2, -1e4 - 5], [2, 3]);
  const lse = await ht.tidy(() => ht.logsumexp(gpu(x), 1)).data();
  assert.ok(Array.from(lse).every(Number.isFinite), `logsumexp overflowed: ${lse}`);
  // logsumexp near 1e4 is good to f32's ulp there (about 1e-3, i.e. 2 eps relative); logSoftmax
  // subtracts the max first, so its small results keep their digits.
  await check(() => ht.logsumexp(gpu(x), 1), R.reduce('logsumexp', x, 1), { rtol: 2 * EPS, atol: 0 }, 'logsumexp at 1e4');
  await check(() => ht.logSoftmax(gpu(x), 1), R.logSoftmax(x, 1), { atol: 64 * EPS, rtol: 4 * EPS }, 'logSoftmax at 1e4');
  await check(() => ht.softmax(gpu(x), 1), R.softmax(x, 1), { atol: 1e-30, rtol: 64 * EPS }, 'softmax at 1e4');
});

// ---- matmul ---------------------------------------------------------------------------------------

// Each output is a length-K dot product: tolerance 4 sqrt(K) eps times sum_k |a_ik b_kj|, which
// covers any summation order the kernels use (blocked, split over K, tree-combined).
function matmulTolerance(a: Ref, b: Ref, transA: boolean, transB: boolean): Float64Array {
  const abs = (x: Ref): Ref => ({ shape: x.shape, data: x.data.map(Math.abs) });
  const bound = R.matmul(abs(a), abs(b), transA, transB);
  const K = transA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
  return bound.data.map((v) => 4 * Math.sqrt(K) * EPS * v + 1e-30);
}

async function checkMatmul(a: Ref, b: Ref, transA: boolean, transB: boolean, what: string): Promise<void> {
  const got = ht.matmul(gpu(a), gpu(b), { transA, transB });
  await check(got, R.matmul(a, b, transA, transB), { atol: matmulTolerance(a, b, transA, transB) }, what);
}

const stored = (rows: number, cols: number, trans: boolean): number[] => (trans ? [cols, rows] : [rows, cols]);

const MATMUL_SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 1],
  [3, 5, 7],
  [13, 1, 31],
  [4, 8, 4],
  [33, 65, 17], // not multiples of the 4x4 block
  [64, 127, 10], // skinny N with a prime K
  [130, 300, 3], // skinny
  [257, 67, 16],
  [65, 70, 129],
];

s('2-D matmul with every transpose flag, on awkward shapes, with every kernel variant', async () => {
  const variants = [null, ...matmulVariants()] as const;
  for (const variant of variants) {
    forceMatmulVariant(variant);
    try {
      for (const [M, K, N] of MATMUL_SHAPES) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const a = randRef(stored(M, K, transA), M * 1000 + K);
            const b = randRef(stored(K, N, transB), K * 1000 + N);
            await checkMatmul(a, b, transA, transB, `matmul ${M}x${K} @ ${K}x${N} transA ${transA} transB ${transB} variant ${variant ?? 'auto'}`);
          }
        }
      }
    } finally {
      forceMatmulVariant(null);
    }
  }
});

s('the skinny and memory-bound shapes of the hypercleaning model and its gradient', async () => {
  // 500 rows instead of 5000 keeps the float64 reference quick; the kernels see the same K and N.
  const X = randRef([500, 785], 21);
  const W = randRef([785, 10], 22);
  const g = randRef([500, 10], 23);
  await checkMatmul(X, W, false, false, 'X W');
  await checkMatmul(X, g, true, false, 'X^T g');
  await checkMatmul(g, X, true, false, 'g^T X');
  await checkMatmul(g, W, false, true, 'g W^T');
});

s('batched matmul with broadcast batch dims and every transpose flag', async () => {
  const cases: [number[], number[]][] = [
    [[3], [3]],
    [[2, 3], [2, 3]],
    [[3, 1], [1, 4]],
    [[5], []],
    [[], [5]],
    [[1], [7]],
  ];
  const r = rng(24);
  for (const [ba, bb] of cases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const [M, K, N] = [DIMS[Math.floor(r() * 7)]!, DIMS[Math.floor(r() * 9)]!, DIMS[Math.floor(r() * 9)]!];
        const a = randRef([...ba, ...stored(M, K, transA)], Math.floor(r() * 1e9));
        const b = randRef([...bb, ...stored(K, N, transB)], Math.floor(r() * 1e9));
        await checkMatmul(a, b, transA, transB, `matmul [${a.shape}] @ [${b.shape}] transA ${transA} transB ${transB}`);
      }
    }
  }
});

// ---- shape ops ------------------------------------------------------------------------------------

s('reshape keeps the data and infers -1; permute and transpose move it', async () => {
  const r = rng(25);
  for (const rank of [2, 3, 4, 5]) {
    const shape = randomShape(r, rank, 20000);
    const x = randRef(shape, Math.floor(r() * 1e9));
    const perm = randomPermutation(r, rank);
    await checkExact(ht.permute(gpu(x), perm), R.permute(x, perm), `permute([${shape}], [${perm}])`);
    const flat = ht.reshape(gpu(x), [-1]);
    await checkExact(flat, R.reshape(x, [R.size(shape)]), `reshape([${shape}], [-1])`);
    const reversed = [...shape].reverse();
    await checkExact(ht.reshape(gpu(x), reversed), R.reshape(x, reversed), `reshape([${shape}], [${reversed}])`);
    const swap = [...Array(rank).keys()];
    [swap[rank - 2], swap[rank - 1]] = [swap[rank - 1]!, swap[rank - 2]!];
    await checkExact(ht.transpose(gpu(x)), R.permute(x, swap), `transpose([${shape}])`);
  }
});

s('reshape makes no copy', async () => {
  const x = tensor([1, 2, 3, 4, 5, 6]);
  const before = ht.memory().dispatches;
  const y = ht.reshape(x, [2, 3]);
  assert.is(ht.memory().dispatches, before, 'reshape dispatched a kernel');
  assert.is(y.buffer, x.buffer);
});

s('broadcastTo, slice and pad on random shapes', async () => {
  const r = rng(26);
  for (let trial = 0; trial < 8; trial++) {
    const rank = 1 + Math.floor(r() * 4);
    const shape = randomShape(r, rank, 20000);
    const x = randRef(shape, Math.floor(r() * 1e9));
    const begin = shape.map((d) => Math.floor(r() * d));
    const size = shape.map((d, i) => (r() < 0.2 ? -1 : Math.floor(r() * (d - begin[i]! + 1))));
    await checkExact(ht.slice(gpu(x), begin, size), R.slice(x, begin, size), `slice([${shape}], [${begin}], [${size}])`);
    const before = shape.map(() => Math.floor(r() * 3));
    const after = shape.map(() => Math.floor(r() * 4));
    await checkExact(() => ht.pad(gpu(x), before, after), R.pad(x, before, after), `pad([${shape}], [${before}], [${after}])`);
    const small = broadcastableTo(r, shape);
    const xs = randRef(small, Math.floor(r() * 1e9));
    await checkExact(ht.broadcastTo(gpu(xs), shape), R.broadcastTo(xs, shape), `broadcastTo([${small}], [${shape}])`);
  }
});

s('concat and stack along every axis', async () => {
  const r = rng(27);
  for (const rank of [1, 2, 3]) {
    const shape = randomShape(r, rank, 5000);
    for (let axis = 0; axis < rank; axis++) {
      const parts = [1, DIMS[Math.floor(r() * DIMS.length)]!, 3].map((len, i) => {
        const s2 = [...shape];
        s2[axis] = len;
        return randRef(s2, 100 * axis + i + rank);
      });
      await checkExact(ht.concat(parts.map(gpu), axis), R.concat(parts, axis), `concat along ${axis} of [${parts.map((p) => `[${p.shape}]`)}]`);
    }
    const same = [0, 1, 2].map((i) => randRef(shape, 500 + i));
    for (let axis = 0; axis <= rank; axis++) {
      const expected = R.concat(same.map((p) => R.reshape(p, [...shape.slice(0, axis), 1, ...shape.slice(axis)])), axis);
      await checkExact(() => ht.stack(same.map(gpu), axis), expected, `stack along ${axis}`);
    }
  }
});

s('gather along each axis (repeated indices, f32 and i32) and oneHot', async () => {
  const r = rng(28);
  for (const rank of [1, 2, 3]) {
    const shape = randomShape(r, rank, 20000);
    const x = randRef(shape, Math.floor(r() * 1e9));
    for (let axis = 0; axis < rank; axis++) {
      const idx = Array.from({ length: 1 + Math.floor(r() * 9) }, () => Math.floor(r() * shape[axis]!));
      await checkExact(ht.gather(gpu(x), tensor(Int32Array.from(idx)), axis), R.gather(x, idx, axis), `gather([${shape}], [${idx}], ${axis})`);
    }
  }
  const ints = tensor(Int32Array.from([5, -3, 7, 2, 9, 0]), [2, 3]);
  const picked = ht.gather(ints, tensor(Int32Array.from([2, 0, 2])), 1);
  assert.is(picked.dtype, 'i32');
  assert.equal(Array.from(await picked.data()), [7, 5, 7, 0, 2, 0]);

  for (const [labels, shape, depth] of [[[3, 0, 9, 3, 1], [5], 10], [[0, 2, 1, 2], [2, 2], 3], [[0], [1], 1]] as [number[], number[], number][]) {
    const oh = ht.oneHot(tensor(Int32Array.from(labels), shape), depth);
    await checkExact(oh, R.oneHot(labels, shape, depth), `oneHot([${labels}], ${depth})`);
  }
});

s('creation: full, zeros, ones, arange, and f32/i32 round trips', async () => {
  assert.equal(Array.from(await ht.full([2, 3], 2.5).data()), [2.5, 2.5, 2.5, 2.5, 2.5, 2.5]);
  assert.equal(Array.from(await ht.zeros([65]).data()), new Array(65).fill(0));
  assert.equal(Array.from(await ht.ones([3], 'i32').data()), [1, 1, 1]);
  await check(ht.arange(-1, 1.25, 0.25), R.ref([-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1], [9]), { rtol: 0, atol: 0 }, 'arange');
  assert.equal(Array.from(await ht.arange(5, undefined, 1, 'i32').data()), [0, 1, 2, 3, 4]);
  const nested = [[1.5, -2], [3, 4e-8]];
  assert.equal(await tensor(nested).array(), nested.map((row) => row.map(Math.fround)));
  assert.is(await tensor(7).item(), 7);
});

// ---- random numbers -------------------------------------------------------------------------------

s('randomUniform and randomNormal: moments, range, and determinism by seed', async () => {
  const n = 200003;
  const u = await ht.randomUniform([n], { seed: 5, low: -2, high: 3 }).data();
  const mean = (v: ArrayLike<number>) => Array.from(v).reduce((p, q) => p + q, 0) / v.length;
  const variance = (v: ArrayLike<number>, m: number) => Array.from(v).reduce((p, q) => p + (q - m) ** 2, 0) / v.length;
  // Uniform on [-2, 3): mean 0.5, variance 25/12; 6 standard errors.
  const mu = mean(u);
  assert.ok(Math.abs(mu - 0.5) < 6 * Math.sqrt(25 / 12 / n), `uniform mean ${mu}`);
  assert.ok(Math.abs(variance(u, mu) - 25 / 12) < 6 * Math.sqrt((625 / 80 - (25 / 12) ** 2) / n), `uniform variance ${variance(u, mu)}`);
  assert.ok(Array.from(u).every((v) => v >= -2 && v < 3), 'uniform values outside [low, high)');
  // Ten equal bins each hold a tenth, within 6 standard errors.
  const bins = new Array(10).fill(0);
  for (const v of u) bins[Math.min(9, Math.floor((v + 2) * 2))]++;
  for (const c of bins) assert.ok(Math.abs(c / n - 0.1) < 6 * Math.sqrt(0.09 / n), `uniform bin share ${c / n}`);

  const z = await ht.randomNormal([n], { seed: 6, mean: 1.5, std: 2 }).data();
  const zm = mean(z);
  const zv = variance(z, zm);
  assert.ok(Math.abs(zm - 1.5) < 6 * 2 / Math.sqrt(n), `normal mean ${zm}`);
  assert.ok(Math.abs(zv - 4) < 6 * 4 * Math.sqrt(2 / n), `normal variance ${zv}`);
  const third = Array.from(z).reduce((p, q) => p + ((q - zm) / 2) ** 3, 0) / n;
  const fourth = Array.from(z).reduce((p, q) => p + ((q - zm) / 2) ** 4, 0) / n;
  assert.ok(Math.abs(third) < 6 * Math.sqrt(15 / n), `normal skewness ${third}`);
  assert.ok(Math.abs(fourth - 3) < 6 * Math.sqrt(96 / n), `normal kurtosis ${fourth}`);
  // Neighbours are uncorrelated.
  let lag = 0;
  for (let i = 1; i < n; i++) lag += (z[i]! - zm) * (z[i - 1]! - zm);
  assert.ok(Math.abs(lag / (n - 1) / zv) < 6 / Math.sqrt(n), `lag-1 correlation ${lag / (n - 1) / zv}`);

  const again = await ht.randomNormal([n], { seed: 6, mean: 1.5, std: 2 }).data();
  assert.ok(again.every((v, i) => v === z[i]), 'the same seed gave different numbers');
  const other = await ht.randomNormal([n], { seed: 7, mean: 1.5, std: 2 }).data();
  assert.ok(other.filter((v, i) => v === z[i]).length < 10, 'a different seed gave the same numbers');
  // Seeds above 2^32 use the high word too.
  const hi1 = await ht.randomUniform([64], { seed: 2 ** 40 + 1 }).data();
  const hi2 = await ht.randomUniform([64], { seed: 1 }).data();
  assert.ok(hi1.some((v, i) => v !== hi2[i]), 'seeds 2^40 + 1 and 1 collide');
  // A prefix of a larger draw is the smaller draw (counter-based: element i depends on i and seed).
  const small = await ht.randomUniform([1000], { seed: 9 }).data();
  const big = await ht.randomUniform([4099], { seed: 9 }).data();
  assert.ok(small.every((v, i) => v === big[i]), 'random numbers depend on the tensor size');
});

// ---- more than 65,535 workgroups ------------------------------------------------------------------

// 64 invocations per workgroup: 65,535 workgroups cover 4,194,240 elements. These sizes need a 2-D
// grid, so a kernel that ignores the second grid dimension leaves most of its output unwritten.
// On CPU adapters the grid-stride kernels run a capped grid that loops; the uncapped run below gives
// every unit of work its own invocation, as on a GPU, so both launch shapes are checked here.
s('elementwise ops on more than 65,535 x 64 elements (a 2-D dispatch grid), capped and uncapped grids', async () => {
  const n = 4_300_013 * 4 + 1; // vec4 units beyond the 1-D limit too, plus a partial vec4
  const a = randRef([n], 31);
  const b = randRef([1], 32); // broadcast scalar operand
  const r = randRef([n], 33);
  const [ga, gb, gr] = [gpu(a), gpu(b), gpu(r)];
  for (const cap of [null, Infinity]) {
    launchTuning.maxGroups = cap;
    try {
      const what = `(grid cap ${cap})`;
      await check(ht.add(ga, gb), R.binary('add', a, R.broadcastTo(b, [n])), { rtol: EPS, atol: 0 }, `add of 17.2M elements ${what}`);
      await check(ht.exp(ht.reshape(ga, [1, n])), R.reshape(R.unary('exp', a), [1, n]), { rtol: 4 * EPS, atol: 0 }, `exp of 17.2M elements ${what}`);
      await check(ht.where(gr, ga, 0), R.where(r, a, R.ref([0], [])), { rtol: 0, atol: 0 }, `where of 17.2M elements ${what}`);
      // A misaligned slice takes the strided (one element per unit) path.
      await checkExact(ht.slice(ga, [3], [4_300_000]), R.slice(a, [3], [4_300_000]), `slice of 4.3M elements at offset 3 ${what}`);
      const u = await ht.randomUniform([4_300_013], { seed: 3 }).data();
      const tail = Array.from(u.subarray(u.length - 100_000));
      assert.ok(Math.abs(tail.reduce((p, q) => p + q, 0) / tail.length - 0.5) < 0.01, `random numbers at the end of a 4.3M draw ${what}`);
    } finally {
      launchTuning.maxGroups = null;
    }
  }
});

s('reductions and copies with more than 65,535 x 64 outputs', async () => {
  // [4.2M, 3] -> [4.2M]: one invocation per output, over the 2-D grid.
  const rows = 4_200_001;
  const x = randRef([rows, 3], 34);
  const gx = gpu(x);
  const idx = Int32Array.from({ length: 1_433_338 }, (_, i) => (i * 7919) % rows);
  const gatherRef = R.gather(x, Array.from(idx), 0);
  for (const cap of [null, Infinity]) {
    launchTuning.maxGroups = cap;
    try {
      const what = `(grid cap ${cap})`;
      await check(ht.sum(gx, 1), R.reduce('sum', x, 1), { atol: sumTolerance(x, [1], false) }, `sum over 3 for 4.2M rows ${what}`);
      await checkExact(ht.max(gx, 1), R.reduce('max', x, 1), `max over 3 for 4.2M rows ${what}`);
      // Transposing [4.2M, 3] is a strided copy, one element per unit.
      await checkExact(ht.transpose(gx), R.permute(x, [1, 0]), `transpose of [4.2M, 3] ${what}`);
      // A gather with 4.3M outputs.
      await checkExact(ht.gather(gx, tensor(idx), 0), gatherRef, `gather of 1.4M rows of 3 ${what}`);
    } finally {
      launchTuning.maxGroups = null;
    }
  }
  // 66,000 rows of 300: the row-reduction kernel runs one workgroup per row, 66,000 > 65,535.
  const y = randRef([66_000, 300], 35);
  await check(ht.sum(gpu(y), 1), R.reduce('sum', y, 1), { atol: sumTolerance(y, [1], false) }, 'sum of 66,000 rows of 300');
});

s('a batched skinny matmul with more than 65,535 rows in all', async () => {
  // batch 70 x 1000 rows: the kernels that give each row its own workgroup need the 2-D grid.
  const a = randRef([70, 1000, 64], 36);
  const b = randRef([64, 3], 37);
  for (const variant of [null, ...matmulVariants()] as const) {
    forceMatmulVariant(variant);
    try {
      await checkMatmul(a, b, false, false, `matmul [70, 1000, 64] @ [64, 3] variant ${variant ?? 'auto'}`);
    } finally {
      forceMatmulVariant(null);
    }
  }
});

s.run();
