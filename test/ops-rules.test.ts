// The VJP and JVP rules of the ops added for issue 15, by test/gradcheck.ts: the dot-product test,
// central differences with Richardson extrapolation, jvpBatch against single jvps, and the same
// for each op's VJP and JVP (order 2: all four compositions of the two modes). Inputs keep clear
// of kinks (clamp's bounds, relu-like ops at 0, ties of min) by more than the finite-difference
// step. Then grad(grad(f)) of the new unary ops against their analytic second derivatives.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { Tensor, tensor, type Shape } from '../src/node.js';
import { setup, randArray, rng, assertClose } from './helpers.js';
import { checkGrads, type GradCheckOptions } from './gradcheck.js';

const s = suite('ops-rules');
s.before(setup);

let seed = 900;

function rand(shape: Shape, lo = -1, hi = 1): Tensor {
  return tensor(Float32Array.from(randArray(shape.reduce((a, b) => a * b, 1), seed++, lo, hi)), shape);
}

/** |x| in [lo, hi) with random signs: clear of a kink at 0. */
function awayFromZero(shape: Shape, lo = 0.1, hi = 1): Tensor {
  const r = rng(seed++);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r())), shape);
}

/** Distinct values >= 0.05 apart in random order, so every min has one clear winner. */
function distinct(shape: Shape): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed++);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05 + 0.01 * r());
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return tensor(Float32Array.from(v), shape);
}

function check(name: string, f: (...xs: Tensor[]) => Tensor, args: () => Tensor[], opts: GradCheckOptions = {}): void {
  s(name, async () => {
    const xs = args();
    try {
      const r = await checkGrads(f, xs, { order: 2, name, batch: 2, ...opts });
      assert.ok(Math.abs(r.finiteDiff) > 1e-6, `${name}: the directional derivative is ~0, the check proves nothing`);
    } finally {
      ht.dispose(xs);
    }
  });
}

const S = [3, 5];
check('tan', (x) => ht.tan(x), () => [rand(S, -1.2, 1.2)]);
check('atan', (x) => ht.atan(x), () => [rand(S, -3, 3)]);
check('log1p', (x) => ht.log1p(x), () => [rand(S, -0.6, 2)]);
check('expm1', (x) => ht.expm1(x), () => [rand(S, -2, 2)]);
check('erf', (x) => ht.erf(x), () => [rand(S, -2, 2)]);
check('gelu', (x) => ht.gelu(x), () => [rand(S, -3, 3)]);
check('gelu tanh approximation', (x) => ht.gelu(x, { approximate: 'tanh' }), () => [rand(S, -3, 3)]);
check('silu', (x) => ht.silu(x), () => [rand(S, -3, 3)]);
check('leakyRelu', (x) => ht.leakyRelu(x, 0.2), () => [awayFromZero(S)]);
check('elu', (x) => ht.elu(x, 1.5), () => [awayFromZero(S)]);
/** Values inside (-0.4, 0.4) and outside +-0.6, both: clear of clamp's bounds +-0.5. */
function aroundBounds(shape: Shape): Tensor {
  const r = rng(seed++);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (r() < 0.5 ? -1 : 1) * (i % 2 ? 0.4 * r() : 0.6 + 0.4 * r())), shape);
}
check('clamp', (x) => ht.add(ht.clamp(x, -0.5, 0.5), ht.mul(x, 0.25)), () => [aroundBounds(S)]);
check('clamp inside its bounds', (x) => ht.clamp(x, -2, 2), () => [rand(S)]);
check('maximum at ties (the 0.5 / 0.5 split, linear along the tie)', (x) => ht.maximum(x, x), () => [rand(S)]);

check('min axis 1', (x) => ht.min(x, 1), () => [distinct([3, 4])]);
check('min of all, long row', (x) => ht.min(x), () => [distinct([2, 300])]);
check('prod axis 1', (x) => ht.prod(x, 1), () => [rand([3, 4], 0.5, 1.5)]);
check('prod axes [0, 2] keepdims', (x) => ht.prod(x, [0, 2], true), () => [rand([2, 3, 2], 0.5, 1.5)]);
check('variance axis 1', (x) => ht.variance(x, 1), () => [rand([3, 5])]);
check('std axes [0, 2], correction 1', (x) => ht.std(x, [0, 2], { correction: 1 }), () => [rand([2, 3, 4])]);
check('cumsum axis 1', (x) => ht.cumsum(x, 1), () => [rand([3, 5])]);
check('cumsum axis 0 reversed', (x) => ht.cumsum(x, 0, { reverse: true }), () => [rand([4, 3])]);
check('flip axes [0, 2]', (x) => ht.flip(x, [0, 2]), () => [rand([2, 3, 4])]);
check('tile [2, 1, 3]', (x) => ht.tile(x, [2, 1, 3]), () => [rand([3, 2])]);
check('squeeze and expandDims', (x) => ht.expandDims(ht.squeeze(x, 1), 0), () => [rand([3, 1, 4])]);
check('matmul [K] @ [K, N]', (a, b) => ht.matmul(a, b), () => [rand([4]), rand([4, 5])]);
check('matmul [B, M, K] @ [K]', (a, b) => ht.matmul(a, b), () => [rand([2, 3, 4]), rand([4])]);
check('matmul [K] @ [K] (dot)', (a, b) => ht.matmul(a, b), () => [rand([6]), rand([6])]);
check('batched matmul [2, 1, 3, 4] @ [3, 4, 5]', (a, b) => ht.matmul(a, b), () => [rand([2, 1, 3, 4]), rand([3, 4, 5])]);
{
  let lab: Tensor | null = null;
  let w: Tensor | null = null;
  const labels = (): Tensor => (lab ??= ht.keep(tensor(new Int32Array([0, 3, 1, 3, 2]))));
  const weights = (): Tensor => (w ??= ht.keep(rand([5], 0, 2)));
  check('crossEntropy with weights', (z) => ht.crossEntropy(z, labels(), { weights: weights() }), () => [rand([5, 4], -2, 2)]);
  check('crossEntropy with probabilities along axis 0', (z, p) => ht.crossEntropy(z, ht.softmax(p, 0), { axis: 0, reduction: 'sum' }), () => [rand([4, 5], -2, 2), rand([4, 5])]);
}

s('prod: gradients with one and with two zeros in a slice (PyTorch\'s values)', async () => {
  const x = tensor([[2, 0, 3], [0, 5, 0], [2, 3, 4]]);
  const g = ht.grad((t: Tensor) => ht.sum(ht.prod(t, 1)))(x);
  assert.equal(Array.from(await g.data()), [0, 6, 0, 0, 0, 0, 12, 8, 6]);
  // Second order with one zero: d2/dx0 dx1 of x0 x1 x2 at (2, 0, 3) is x2 = 3, d2/dx1 dx2 = x0 = 2.
  const H = ht.hvp((t: Tensor) => ht.prod(t), tensor([2, 0, 3]), tensor([0, 1, 0]));
  assert.equal(Array.from(await H.data()), [3, 0, 2]);
  ht.dispose([x, g, H]);
});

// ---- grad(grad(f)) against analytic second derivatives ----------------------------------------

const POINTS = [-2.1, -0.7, -0.05, 0.3, 0.9, 1.3];
const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const SECOND: [string, (x: Tensor) => Tensor, (x: number) => number][] = [
  ['tan', ht.tan, (x) => 2 * Math.tan(x) * (1 + Math.tan(x) ** 2)],
  ['atan', ht.atan, (x) => (-2 * x) / (1 + x * x) ** 2],
  ['log1p', ht.log1p, (x) => -1 / (1 + x) ** 2],
  ['expm1', ht.expm1, Math.exp],
  ['erf', ht.erf, (x) => (-4 * x * Math.exp(-x * x)) / Math.sqrt(Math.PI)],
  ['gelu', (x) => ht.gelu(x), (x) => phi(x) * (2 - x * x)],
  ['silu', ht.silu, (x) => sig(x) * (1 - sig(x)) * (2 + x * (1 - 2 * sig(x)))],
  ['elu', (x) => ht.elu(x, 1.5), (x) => (x > 0 ? 0 : 1.5 * Math.exp(x))],
];

s('grad(grad(f)) of the new unary ops equals the analytic second derivative', async () => {
  for (const [name, f, d2] of SECOND) {
    const x = tensor(name === 'log1p' ? POINTS.map((p) => Math.abs(p) - 0.5) : POINTS);
    const xs = Array.from(await x.data());
    const g2 = ht.grad((y: Tensor) => ht.sum(ht.grad((z: Tensor) => ht.sum(f(z)))(y)))(x);
    assertClose(await g2.data(), xs.map(d2), { rtol: 1e-5, atol: 2e-6 }, `${name}''`);
    ht.dispose([x, g2]);
  }
});

s.run();
