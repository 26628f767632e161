// The engine checks that run inside a browser (test/browser/page.ts) and, where the numbers must
// match across adapters, under Node as well (test/browser.test.ts). Each check throws an Error
// naming what differed; it may return numbers that the Node side compares with its own run.
// Platform-independent: it uses only the library surface shared by src/node.ts and src/browser.ts.
import {
  tensor, tidy, dispose, add, sub, mul, div, maximum, exp, sin, tanh, sigmoid, softplus, logSigmoid,
  sum, mean, max, logsumexp, logSoftmax, matmul, oneHot, square, reshape, randomUniform, randomNormal,
  forceMatmulVariant, matmulVariants, grad, hvp, conv2d, maxPool2d, batchNorm, type Tensor,
} from '../../src/index.js';
import { randArray, assertClose } from '../helpers.js';
import { checkGrads } from '../gradcheck.js';
import * as R from '../reference.js';
import * as RC from '../reference-conv.js';
import { hypergradient } from '../../src/bilevel/index.js';
import { toyProblem, toyHypergradient, toyOuterValue } from '../../src/experiments/toy-problem.js';

/** Numbers a check returns, by name, to be compared across adapters. */
export type CheckData = Record<string, number[]>;

export interface Check {
  name: string;
  run: () => Promise<CheckData | void>;
  /**
   * Present when a fixed input must give the same numbers in Node and in the browser: the
   * tolerance per returned series, |node - browser| <= atol + rtol * |node|.
   */
  sameNumbers?: Record<string, { rtol: number; atol: number }>;
}

async function read(t: Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** Runs every case, then throws one Error listing all that failed (not just the first). */
async function allOf(cases: (() => Promise<void>)[]): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      await c();
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  if (failures.length) throw new Error(failures.join('\n'));
}

/** f32 values (what the GPU holds) as a float64 reference array. */
function ref32(n: number, shape: number[], seed: number, lo = -1, hi = 1): R.Ref {
  return R.ref(Float32Array.from(randArray(n, seed, lo, hi)), shape);
}

const elementwise: Check = {
  name: 'elementwise ops with broadcasting against float64',
  async run() {
    const a = ref32(15, [3, 1, 5], 11);
    const b = ref32(20, [4, 5], 12, 0.5, 2); // positive, so div is tame
    const [A, B] = [tensor(a.data, a.shape), tensor(b.data, b.shape)];
    const binary: [string, (x: Tensor, y: Tensor) => Tensor][] = [['add', add], ['sub', sub], ['mul', mul], ['div', div], ['maximum', maximum]];
    const x = ref32(257, [257], 13, -20, 20);
    const X = tensor(x.data);
    const unary: [string, (t: Tensor) => Tensor][] = [['sin', sin], ['tanh', tanh], ['sigmoid', sigmoid], ['softplus', softplus], ['logSigmoid', logSigmoid]];
    const quarter = R.ref(x.data.map((v) => v / 4), x.shape); // exp on [-5, 5]
    await allOf([
      ...binary.map(([name, op]) => async () => {
        const out = op(A, B);
        const want = R.binary(name, a, b);
        if (out.shape.join() !== want.shape.join()) throw new Error(`${name}: shape [${out.shape}] != [${want.shape}]`);
        assertClose(await read(out), want.data, { rtol: 2e-7, atol: 1e-7 }, `${name} [${a.shape}] with [${b.shape}]`);
      }),
      // f32 transcendentals: a few ulp relative, plus 2e-6 absolute near zeros of sin and tanh.
      ...unary.map(([name, op]) => async () => assertClose(await read(op(X)), R.unary(name, x).data, { rtol: 5e-6, atol: 2e-6 }, `${name} on [-20, 20]`)),
      async () => assertClose(await read(tidy(() => exp(mul(X, 0.25)))), R.unary('exp', quarter).data, { rtol: 5e-6, atol: 2e-6 }, 'exp on [-5, 5]'),
    ]);
    dispose([A, B, X]);
  },
};

const reductions: Check = {
  name: 'reductions (sum, mean, max, logsumexp) against float64',
  async run() {
    const x = ref32(7 * 13 * 5, [7, 13, 5], 21, -3, 3);
    const X = tensor(x.data, x.shape);
    const cases: [string, () => Tensor, R.Ref][] = [
      ['sum over axes [0, 2] keepdims', () => sum(X, [0, 2], true), R.reduce('sum', x, [0, 2], true)],
      ['mean over axis 1', () => mean(X, 1), R.reduce('mean', x, 1)],
      ['max over axis 2', () => max(X, 2), R.reduce('max', x, 2)],
      ['sum of everything', () => sum(X), R.reduce('sum', x)],
      ['logsumexp over axis 1', () => logsumexp(X, 1), R.reduce('logsumexp', x, 1)],
    ];
    await allOf(cases.map(([name, op, want]) => async () => {
      const out = op();
      if (out.shape.join() !== want.shape.join()) throw new Error(`${name}: shape [${out.shape}] != [${want.shape}]`);
      assertClose(await read(out), want.data, { rtol: 1e-5, atol: 1e-5 }, name);
    }));
    X.dispose();
  },
};

const matmuls: Check = {
  name: 'matmul, every kernel variant, with transposes and a 300x785 x 785x10 product',
  async run() {
    const cases: [number[], number[], boolean, boolean][] = [
      [[33, 17], [17, 29], false, false],
      [[17, 33], [17, 29], true, false],
      [[33, 17], [29, 17], false, true],
      [[17, 33], [29, 17], true, true],
      [[300, 785], [785, 10], false, false], // hypercleaning's shape, scaled down: memory-bound
      [[785, 300], [785, 10], true, false], // its weight gradient's partner
    ];
    try {
      await allOf(matmulVariants().flatMap((variant) => cases.map(([aShape, bShape, transA, transB]) => async () => {
        forceMatmulVariant(variant);
        const a = ref32(aShape[0]! * aShape[1]!, aShape, aShape[0]! + 31);
        const b = ref32(bShape[0]! * bShape[1]!, bShape, bShape[1]! + 37);
        const out = tidy(() => matmul(tensor(a.data, aShape), tensor(b.data, bShape), { transA, transB }));
        // Sums of up to 785 f32 products of size <= 1: rounding grows like sqrt(k) ulp.
        const what = `${variant} matmul [${aShape}]${transA ? '^T' : ''} x [${bShape}]${transB ? '^T' : ''}`;
        assertClose(await read(out), R.matmul(a, b, transA, transB).data, { rtol: 1e-4, atol: 1e-4 }, what);
      })));
    } finally {
      forceMatmulVariant(null);
    }
  },
};

// f(x) = sum(x^2 sin x) + sum(logSigmoid(M x)): a scalar with a dense Hessian whose gradient and
// Hessian-vector products have closed forms (below, in float64).
const N = 24;
const ROWS = 9;
const M = R.ref(Float32Array.from(randArray(ROWS * N, 41, -0.5, 0.5)), [ROWS, N]);
function smooth(x: Tensor): Tensor {
  return add(sum(mul(square(x), sin(x))), sum(logSigmoid(matmul(tensor(M.data, M.shape), reshape(x, [N, 1])))));
}
const sig = (z: number) => 1 / (1 + Math.exp(-z));
const times = (A: R.Ref, v: ArrayLike<number>) => R.matmul(A, R.ref(v, [v.length, 1])).data;
function smoothGrad(x: ArrayLike<number>): number[] {
  const z = times(M, x);
  const back = R.matmul(M, R.ref(z.map((zr) => sig(-zr)), [ROWS, 1]), true).data; // M^T sigma(-Mx)
  return Array.from({ length: N }, (_, i) => 2 * x[i]! * Math.sin(x[i]!) + x[i]! ** 2 * Math.cos(x[i]!) + back[i]!);
}
function smoothHvp(x: ArrayLike<number>, v: ArrayLike<number>): number[] {
  const z = times(M, x);
  const Mv = times(M, v);
  const back = R.matmul(M, R.ref(z.map((zr, r) => sig(zr) * (1 - sig(zr)) * Mv[r]!), [ROWS, 1]), true).data;
  return Array.from({ length: N }, (_, i) => {
    const xi = x[i]!;
    return (2 * Math.sin(xi) + 4 * xi * Math.cos(xi) - xi * xi * Math.sin(xi)) * v[i]! - back[i]!;
  });
}

const gradientCheck: Check = {
  name: 'gradients: closed form in float64, and jvp/vjp/finite differences (test/gradcheck.ts)',
  async run() {
    const x = Float32Array.from(randArray(N, 51, -2, 2));
    const g = await read(tidy(() => grad(smooth)(tensor(x))));
    assertClose(g, smoothGrad(x), { rtol: 1e-4, atol: 1e-5 }, 'grad of sum(x^2 sin x) + sum(logSigmoid(Mx))');
    // Softmax cross-entropy of X W, plus a sin^2 penalty: matmul, logSoftmax, oneHot, mean and
    // their rules together, to second order.
    const X = tensor(Float32Array.from(randArray(12 * 7, 52)), [12, 7]);
    const Y = tidy(() => oneHot(tensor(Int32Array.from({ length: 12 }, (_, i) => (i * 7) % 5), [12], 'i32'), 5));
    const crossEntropy = (W: Tensor) => add(mean(mul(sum(mul(logSoftmax(matmul(X, W), 1), Y), 1), -1)), mul(sum(square(sin(W))), 0.1));
    const W = tensor(Float32Array.from(randArray(35, 53)), [7, 5]);
    await checkGrads(crossEntropy, [W], { order: 2, name: 'softmax cross-entropy + 0.1 sum(sin(W)^2)' });
    dispose([X, Y, W]);
  },
};

const hvpCheck: Check = {
  name: 'Hessian-vector products: closed form in float64 and differences of gradients',
  async run() {
    const x = Float32Array.from(randArray(N, 71, -2, 2));
    const v = Float32Array.from(randArray(N, 72));
    const hv = await read(tidy(() => hvp(smooth, tensor(x), tensor(v))));
    assertClose(hv, smoothHvp(x, v), { rtol: 1e-4, atol: 1e-4 }, 'hvp against the closed-form Hessian');
    const h = 1e-2;
    const gAt = (s: number) => read(tidy(() => grad(smooth)(tensor(Float32Array.from(x, (xi, i) => xi + s * h * v[i]!)))));
    const [gp, gm] = [await gAt(1), await gAt(-1)];
    const fd = Array.from(gp, (p, i) => (p - gm[i]!) / (2 * h));
    // f32 gradients differenced over 2h = 0.02: rounding ~ |g| eps / h ~ 1e-5, truncation ~ h^2.
    assertClose(hv, fd, { rtol: 2e-3, atol: 2e-3 }, 'hvp against central differences of gradients');
  },
};

const UNIFORM = { shape: [1000], seed: 1234, low: -2, high: 3 };
// A seed above 2^32 so both halves of the 64-bit seed reach the kernel.
const NORMAL = { shape: [1000], seed: 2 ** 40 + 7, mean: 1, std: 2 };

const randomNumbers: Check = {
  name: 'seeded random numbers (uniform and normal)',
  async run() {
    const u = await read(randomUniform(UNIFORM.shape, UNIFORM));
    const n = await read(randomNormal(NORMAL.shape, NORMAL));
    const bad = u.findIndex((v) => !(v >= UNIFORM.low && v < UNIFORM.high));
    if (bad >= 0) throw new Error(`randomUniform: element ${bad} = ${u[bad]} lies outside [${UNIFORM.low}, ${UNIFORM.high})`);
    // Sample moments within 5 standard errors of the distribution's.
    const m = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const uMean = m(u);
    if (Math.abs(uMean - 0.5) > 5 * (5 / Math.sqrt(12)) / Math.sqrt(1000)) throw new Error(`randomUniform: sample mean ${uMean}, expected about 0.5`);
    const nMean = m(n);
    const nStd = Math.sqrt(m(n.map((v) => (v - nMean) ** 2)));
    if (Math.abs(nMean - 1) > 5 * 2 / Math.sqrt(1000) || Math.abs(nStd - 2) > 5 * 2 / Math.sqrt(2000)) {
      throw new Error(`randomNormal: sample mean ${nMean} and std ${nStd}, expected about 1 and 2`);
    }
    return { uniform: Array.from(u), normal: Array.from(n) };
  },
  sameNumbers: {
    // Integer hashing, then one f32 multiply-add: bit for bit the same on every adapter.
    uniform: { rtol: 0, atol: 0 },
    // Box-Muller through f32 log, sqrt and cos, whose last bits differ between adapters.
    normal: { rtol: 1e-5, atol: 1e-5 },
  },
};

// K-RMD on the toy problem (paper section 4.1) at two lambdas and four truncations.
const TOY_LAMBDAS = [[1, 1], [-0.5, 1.5]];
const TOY_KS = [1, 5, 25, 100];

const toyHypergradients: Check = {
  name: 'toy problem: K-RMD hypergradients h_{T-K} against their closed form',
  async run() {
    const problem = toyProblem();
    const grads: number[] = [];
    const values: number[] = [];
    try {
      await allOf(TOY_LAMBDAS.flatMap((lam) => TOY_KS.map((K) => async () => {
        const lambda = tensor(lam);
        const { value, grad: h } = await hypergradient(problem, lambda, { method: 'krmd', K });
        lambda.dispose();
        const got = await read(h);
        grads.push(...got);
        values.push(value);
        // 100 f32 gradient steps, then K back: a few ulp of |h| per step.
        assertClose(got, toyHypergradient(lam, K), { rtol: 1e-5, atol: 1e-5 }, `h_{T-${K}} at lambda = (${lam})`);
        assertClose([value], [toyOuterValue(lam)], { rtol: 1e-5, atol: 1e-6 }, `f(w_T) at lambda = (${lam})`);
      })));
    } finally {
      problem.dispose();
    }
    return { hypergradients: grads, values };
  },
  sameNumbers: {
    // The same f32 arithmetic on both adapters (sin and cos are ours, shaders/trig.wgsl); what
    // may differ is whether a compiler fuses a multiply and an add: a few ulp after 100 steps.
    hypergradients: { rtol: 1e-5, atol: 1e-6 },
    values: { rtol: 1e-5, atol: 1e-6 },
  },
};

const convolution: Check = {
  name: 'conv2d, maxPool2d, batchNorm against float64, and their rules to second order',
  async run() {
    const x = ref32(2 * 3 * 7 * 6, [2, 3, 7, 6], 81);
    const w = ref32(4 * 3 * 3 * 3, [4, 3, 3, 3], 82);
    const [X, W] = [tensor(x.data, x.shape), tensor(w.data, w.shape)];
    // Values 0.05 apart (37 is prime to 252, so i -> 37 i mod 252 permutes): every pooling window
    // keeps its winner under the finite-difference steps.
    const D = tensor(Float32Array.from({ length: 252 }, (_, i) => (((37 * i) % 252) - 126) * 0.05), [2, 3, 7, 6]);
    await allOf([
      ...([[1, 0], [2, 1], [1, 2]] as const).map(([st, pd]) => async () =>
        assertClose(await read(conv2d(X, W, { stride: st, padding: pd })), RC.conv2d(x, w, [st, st], [pd, pd]).data, { rtol: 1e-5, atol: 1e-5 }, `conv2d stride ${st} padding ${pd}`)),
      async () => assertClose(await read(maxPool2d(X)), RC.maxPool2d(x, 2, 2).data, { rtol: 0, atol: 0 }, 'maxPool2d 2x2'),
      async () => assertClose(await read(maxPool2d(X, { size: 3, stride: 2 })), RC.maxPool2d(x, 3, 2).data, { rtol: 0, atol: 0 }, 'maxPool2d 3x3 stride 2'),
      async () => assertClose(await read(batchNorm(X)), RC.batchNorm(x, 1e-5).data, { rtol: 1e-4, atol: 1e-5 }, 'batchNorm'),
      async () => void (await checkGrads((a, b) => sin(conv2d(a, b, { stride: 2, padding: 1 })), [X, W], { order: 2, name: 'sin(conv2d(x, w))' })),
      async () => void (await checkGrads((a) => maxPool2d(batchNorm(a)), [D], { order: 2, ulps: 32, name: 'maxPool2d(batchNorm(x))' })),
    ]);
    dispose([X, W, D]);
  },
};

export const browserChecks: Check[] = [elementwise, reductions, matmuls, gradientCheck, hvpCheck, convolution, randomNumbers, toyHypergradients];
