// The kernels of the ops added for issue 15 against the float64 reference (test/reference.ts), on
// awkward shapes (rank 0, dims of 1, primes, one past a multiple of 4 and of the workgroup), with
// tolerances stated per op. Inputs are rounded to f32 before the reference sees them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, type Tensor } from '../src/node.js';
import { setup, rng, assertClose } from './helpers.js';
import * as R from './reference.js';
import type { Ref } from './reference.js';

const s = suite('ops-kernels');
s.before(setup);

const EPS = 2 ** -23;
const SHAPES = [[], [1], [7], [5, 13], [3, 65, 5], [2, 1, 127]];

function randRef(shape: readonly number[], seed: number, lo = -1, hi = 1): Ref {
  const r = rng(seed);
  return { shape: [...shape], data: Float64Array.from({ length: R.size(shape) }, () => Math.fround(lo + (hi - lo) * r())) };
}

/** Runs `f` in tidy, reads and frees its result, and compares it with `want` (shape and values). */
async function expectClose(f: () => Tensor, want: Ref, tol: { rtol: number; atol: number }, what: string): Promise<void> {
  const t = ht.tidy(f);
  assert.equal([...t.shape], want.shape, `${what}: shape`);
  const got = await t.data();
  t.dispose();
  assertClose(got, want.data, tol, what);
}

const api = ht as unknown as Record<string, (t: Tensor, ...rest: unknown[]) => Tensor>;

// Per op: input range and tolerance (relative plus absolute in units of EPS where the result
// cancels to near zero).
const UNARY: Record<string, { lo: number; hi: number; rtol: number; atol: number; call?: (x: Tensor) => Tensor }> = {
  // Our range reduction (shaders/trig.wgsl) and one division; poles at +-pi/2 avoided.
  tan: { lo: -1.4, hi: 1.4, rtol: 8 * EPS, atol: 2 * EPS },
  atan: { lo: -30, hi: 30, rtol: 4 * EPS, atol: EPS },
  // The atanh series on (-0.5, 1), log(1 + x) elsewhere (WGSL's log: 3 ulp).
  log1p: { lo: -0.999, hi: 8, rtol: 8 * EPS, atol: 0 },
  // The Taylor series on |x| < 0.5, exp(x) - 1 elsewhere (exp: 3 + 2|x| ulp, times at most 2.6).
  expm1: { lo: -6, hi: 6, rtol: 48 * EPS, atol: 0 },
  erf: { lo: -5, hi: 5, rtol: 4 * EPS, atol: EPS },
  // 1 + erf(x / sqrt 2) cancels for negative x: an absolute error of a few EPS times |x|.
  gelu: { lo: -6, hi: 6, rtol: 8 * EPS, atol: 16 * EPS },
  geluTanh: { lo: -6, hi: 6, rtol: 16 * EPS, atol: 16 * EPS, call: (x) => ht.gelu(x, { approximate: 'tanh' }) },
  silu: { lo: -12, hi: 12, rtol: 32 * EPS, atol: 0 },
  leakyRelu: { lo: -5, hi: 5, rtol: EPS, atol: 0 },
  elu: { lo: -8, hi: 5, rtol: 8 * EPS, atol: 0 },
};

s('new unary ops match float64 on awkward shapes', async () => {
  let seed = 1;
  for (const [name, c] of Object.entries(UNARY)) {
    for (const shape of SHAPES) {
      const x = randRef(shape, seed++, c.lo, c.hi);
      const op = c.call ?? ((t: Tensor) => api[name]!(t));
      await expectClose(() => op(tensor(Float32Array.from(x.data), shape)), R.unary(name, x), c, `${name} on [${shape}]`);
    }
  }
});

s('log1p and expm1 keep the digits of tiny x; erf, tan and atan at special points', async () => {
  const tiny = R.ref([1e-30, -3e-12, 1e-8, -2e-7, 1e-5, 3e-4, -0.01, 0.2, -0.45, 0.99], [10]).data.map(Math.fround);
  const x = R.ref(tiny, [10]);
  await expectClose(() => ht.log1p(tensor(Float32Array.from(tiny))), R.unary('log1p', x), { rtol: 4 * EPS, atol: 0 }, 'log1p near 0');
  await expectClose(() => ht.expm1(tensor(Float32Array.from(tiny))), R.unary('expm1', x), { rtol: 4 * EPS, atol: 0 }, 'expm1 near 0');
  const special = Float32Array.from([0, -0, Infinity, -Infinity, 4, -4, 3.9, 0.92, -0.92]);
  const sp = R.ref(special, [9]);
  await expectClose(() => ht.erf(tensor(special)), R.unary('erf', sp), { rtol: 4 * EPS, atol: 0 }, 'erf at 0, +-inf, the branch points');
  await expectClose(() => ht.atan(tensor(special)), R.unary('atan', sp), { rtol: 4 * EPS, atol: 0 }, 'atan at 0, +-inf, large');
  assert.equal(Array.from(await ht.log1p(tensor([-1, Infinity])).data()), [-Infinity, Infinity]);
  assert.equal(Array.from(await ht.expm1(tensor([-Infinity, 100])).data()), [-1, Infinity]);
  // Pinned limits (WGSL leaves them open; SwiftShader's log(0) is about -88).
  assert.equal(Array.from(await ht.exp(tensor([-Infinity, -200])).data()), [0, 0]);
  assert.equal(Array.from(await ht.log(tensor([0, Infinity])).data()), [-Infinity, Infinity]);
  assert.ok(Number.isNaN(await ht.log(tensor([-1])).item()) && Number.isNaN(await ht.log1p(tensor([-2])).item()), 'log of a negative number is NaN');
});

s('clamp, with NaN and infinite bounds, against float64', async () => {
  const x = randRef([7, 13], 50, -3, 3);
  x.data[3] = NaN;
  const X = (): Tensor => tensor(Float32Array.from(x.data), x.shape);
  await expectClose(() => ht.clamp(X(), -1, 0.5), R.clamp(x, -1, 0.5), { rtol: 0, atol: 0 }, 'clamp(-1, 0.5)');
  await expectClose(() => ht.clamp(X(), 0), R.clamp(x, 0, Infinity), { rtol: 0, atol: 0 }, 'clamp(0)');
  await expectClose(() => ht.clamp(X(), undefined, 1), R.clamp(x, -Infinity, 1), { rtol: 0, atol: 0 }, 'clamp(undefined, 1)');
  assert.throws(() => ht.clamp(X(), 1, 0), /lo <= hi/);
});

/** Every set of axes of a rank-n tensor, plus all (undefined). */
function axisSets(rank: number): (number[] | undefined)[] {
  const out: (number[] | undefined)[] = [undefined];
  for (let m = 1; m < 1 << rank; m++) out.push([...Array(rank).keys()].filter((a) => m & (1 << a)));
  return out;
}

s('min, prod and variance over every set of axes; argmin along each axis', async () => {
  let seed = 100;
  for (const shape of [[7], [5, 13], [3, 7, 5], [2, 300]]) {
    const x = randRef(shape, seed++, 0.5, 1.5); // prod of up to 600 values in [0.5, 1.5) stays in range
    const X = tensor(Float32Array.from(x.data), shape);
    for (const axes of axisSets(shape.length)) {
      for (const keepdims of [false, true]) {
        const what = (op: string) => `${op}([${shape}], ${axes ? `[${axes}]` : 'all'}, keepdims ${keepdims})`;
        const n = x.data.length / R.reduce('sum', x, axes).data.length;
        await expectClose(() => ht.min(X, axes, keepdims), R.reduce('min', x, axes, keepdims), { rtol: 0, atol: 0 }, what('min'));
        // n roundings of a product: n EPS relative in the worst case.
        await expectClose(() => ht.prod(X, axes, keepdims), R.reduce('prod', x, axes, keepdims), { rtol: (n + 1) * EPS, atol: 0 }, what('prod'));
        // Two passes (mean, then squares): a few sqrt(n) EPS relative to the sum of squares.
        await expectClose(() => ht.variance(X, axes, { keepdims }), R.reduce('var', x, axes, keepdims), { rtol: 8 * Math.sqrt(n) * EPS, atol: 1e-7 }, what('variance'));
      }
    }
    for (let axis = 0; axis < shape.length; axis++) {
      const coarse = R.ref(x.data.map((v) => Math.round(v * 4)), shape); // ties: the first index wins
      await expectClose(() => ht.argmin(tensor(Float32Array.from(coarse.data), shape), axis), R.reduce('argmin', coarse, axis), { rtol: 0, atol: 0 }, `argmin([${shape}], ${axis})`);
    }
    X.dispose();
  }
  const x = randRef([4, 9], 7);
  const X = tensor(Float32Array.from(x.data), [4, 9]);
  const n = 9;
  const std1 = R.reduce('var', x, 1).data.map((v) => Math.sqrt((v * n) / (n - 1)));
  await expectClose(() => ht.std(X, 1, { correction: 1 }), R.ref(std1, [4]), { rtol: 16 * EPS, atol: 0 }, 'std with correction 1');
  assert.throws(() => ht.variance(X, 1, { correction: 9 }), /divides by 0/);
  X.dispose();
});

s('cumsum forwards and backwards along each axis', async () => {
  let seed = 200;
  for (const shape of [[1], [130], [5, 13], [3, 65, 5]]) {
    const x = randRef(shape, seed++);
    for (let axis = 0; axis < shape.length; axis++) {
      for (const reverse of [false, true]) {
        const R_ = shape[axis]!;
        // A running f32 sum: at most R EPS of the running sum of |x| (|x| < 1).
        await expectClose(() => ht.cumsum(tensor(Float32Array.from(x.data), shape), axis, { reverse }), R.cumsum(x, axis, reverse), { rtol: 0, atol: R_ * EPS }, `cumsum([${shape}], ${axis}, reverse ${reverse})`);
      }
    }
  }
});

s('flip, tile, squeeze and expandDims move data exactly', async () => {
  let seed = 300;
  for (const shape of [[7], [5, 13], [3, 1, 65], [2, 3, 4, 5]]) {
    const x = randRef(shape, seed++);
    const X = (): Tensor => tensor(Float32Array.from(x.data), shape);
    for (const axes of axisSets(shape.length)) {
      const ax = axes ?? [...shape.keys()];
      await expectClose(() => ht.flip(X(), axes), R.flip(x, ax), { rtol: 0, atol: 0 }, `flip([${shape}], ${axes ? `[${axes}]` : 'all'})`);
    }
    for (const reps of [[2], [1, 3], [2, 1, 2], [3, 1, 1, 1, 2]]) {
      await expectClose(() => ht.tile(X(), reps), R.tile(x, reps), { rtol: 0, atol: 0 }, `tile([${shape}], [${reps}])`);
    }
  }
  const x = tensor(Float32Array.from({ length: 6 }, (_, i) => i), [1, 2, 1, 3]);
  assert.equal([...ht.squeeze(x).shape], [2, 3]);
  assert.equal([...ht.squeeze(x, 2).shape], [1, 2, 3]);
  assert.equal([...ht.squeeze(x, [0, -2]).shape], [2, 3]);
  assert.throws(() => ht.squeeze(x, 1), /axis 1 .* has size 2, not 1/);
  assert.equal([...ht.expandDims(x, 0).shape], [1, 1, 2, 1, 3]);
  assert.equal([...ht.expandDims(x, -1).shape], [1, 2, 1, 3, 1]);
  assert.equal([...ht.expandDims(x, [1, 3]).shape], [1, 1, 2, 1, 1, 3]);
  assert.equal(Array.from(await ht.expandDims(x, 2).data()), [0, 1, 2, 3, 4, 5]);
  x.dispose();
});

s('matmul with 1-D operands (NumPy) and with broadcast batch dims', async () => {
  const cases: [number[], number[], number[], number[]][] = [
    // a shape, b shape, how the reference sees them (as matrices), result shape
    [[5], [5, 7], [1, 5], [7]],
    [[3, 5], [5], [5, 1], [3]],
    [[5], [5], [1, 5], []],
    [[2, 3, 5], [5], [5, 1], [2, 3]],
    [[5], [4, 5, 7], [1, 5], [4, 7]],
    [[2, 1, 3, 5], [4, 5, 7], [], [2, 4, 3, 7]],
  ];
  let seed = 400;
  for (const [sa, sb, vecAs, out] of cases) {
    const a = randRef(sa, seed++);
    const b = randRef(sb, seed++);
    const a2 = sa.length === 1 ? R.reshape(a, [1, sa[0]!]) : a;
    const b2 = sb.length === 1 ? R.reshape(b, [sb[0]!, 1]) : b;
    void vecAs;
    const want = R.reshape(R.matmul(a2, b2), out);
    await expectClose(() => ht.matmul(tensor(Float32Array.from(a.data), sa), tensor(Float32Array.from(b.data), sb)), want, { rtol: 8 * EPS, atol: 8 * EPS }, `matmul [${sa}] @ [${sb}]`);
  }
  const v = tensor([1, 2, 3]);
  assert.throws(() => ht.matmul(v, tensor([1, 2])), /inner dims differ/);
  assert.throws(() => ht.matmul(v, tensor([[1], [2], [3]]), { transA: true }), /transpose flag on a 1-D operand/);
  v.dispose();
});

s('crossEntropy from logits: i32 labels, probabilities, weights, reductions, class axis 0', async () => {
  const n = 6;
  const C = 4;
  const z = randRef([n, C], 500, -30, 30); // large logits: a naive log(softmax) would underflow
  const labels = [0, 3, 1, 3, 2, 0];
  const w = randRef([n], 501, 0, 2);
  const ls = R.logSoftmax(z, -1);
  const ce = labels.map((l, i) => -ls.data[i * C + l]!);
  const Z = tensor(Float32Array.from(z.data), [n, C]);
  const L = tensor(Int32Array.from(labels));
  const W = tensor(Float32Array.from(w.data));
  const tol = { rtol: 1e-6, atol: 1e-5 };
  await expectClose(() => ht.crossEntropy(Z, L, { reduction: 'none' }), R.ref(ce, [n]), tol, 'per example');
  await expectClose(() => ht.crossEntropy(Z, L), R.ref([ce.reduce((p, q) => p + q) / n], []), tol, 'mean');
  const weighted = ce.map((c, i) => c * w.data[i]!);
  await expectClose(() => ht.crossEntropy(Z, L, { weights: W, reduction: 'sum' }), R.ref([weighted.reduce((p, q) => p + q)], []), tol, 'weighted sum');
  await expectClose(() => ht.crossEntropy(Z, L, { weights: W }), R.ref([weighted.reduce((p, q) => p + q) / n], []), tol, 'weighted mean (divided by n)');
  // The same with probabilities (one-hot) and with classes along axis 0.
  const Y = ht.oneHot(L, C);
  await expectClose(() => ht.crossEntropy(Z, Y, { reduction: 'none' }), R.ref(ce, [n]), tol, 'one-hot probabilities');
  await expectClose(() => ht.crossEntropy(ht.transpose(Z), L, { axis: 0, reduction: 'none' }), R.ref(ce, [n]), tol, 'class axis 0, i32 labels');
  await expectClose(() => ht.crossEntropy(ht.transpose(Z), ht.transpose(Y), { axis: 0, weights: W }), R.ref([weighted.reduce((p, q) => p + q) / n], []), tol, 'class axis 0, probabilities, weights');
  assert.throws(() => ht.crossEntropy(Z, tensor(Int32Array.from([1, 2]))), /i32 class labels .* must have the logits' shape without the class axis/);
  assert.throws(() => ht.crossEntropy(Z, L, { weights: tensor([1, 2]) }), /weights .* one per example/);
  ht.dispose([Z, L, W, Y]);
});

s.run();
