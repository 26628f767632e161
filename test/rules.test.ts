// Every differentiable op's VJP and JVP rules, checked by test/gradcheck.ts: the dot-product test
// <u, J v> == <J^T u, v> (to 1e-5 of the sum of absolute terms), central finite differences
// (step 1e-2 with Richardson extrapolation, tolerance 3e-4 relative plus an 8-ulp f32 rounding
// allowance, 32 ulps for long sums; see gradcheck.ts), jvpBatch with
// 3 directions against 3 single jvp calls, and the same again for each op's VJP and for its JVP
// as functions of the primals (order 2: all four compositions of forward and reverse mode).
// Inputs keep clear of kinks (relu, abs, max, maximum) by more than the finite-difference step.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { Tensor, tensor, type Shape } from '../src/node.js';
import { setup, randArray, rng, distinctValues } from './helpers.js';
import { checkGrads, type GradCheckOptions } from './gradcheck.js';

const s = suite('rules');
s.before(setup);

let seed = 100;

/** Uniform values in [lo, hi). */
function rand(shape: Shape, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from(randArray(n, seed++, lo, hi)), shape);
}

/** Uniform values with |x| in [0.1, 1): clear of the kink at 0. */
function awayFromZero(shape: Shape): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed++);
  return tensor(Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (0.1 + 0.9 * r())), shape);
}

/** Distinct values spaced >= 0.05 apart in random order, so a max has one clear winner. */
function distinct(shape: Shape): Tensor {
  return distinctValues(shape, seed++);
}

/** A tensor b with |a - b| in [0.1, 0.6) elementwise (a and b the same shape). */
async function apart(a: Tensor): Promise<Tensor> {
  const av = await a.data();
  const r = rng(seed++);
  return tensor(Float32Array.from(av, (x) => x + (r() < 0.5 ? -1 : 1) * (0.1 + 0.5 * r())), a.shape);
}

function check(name: string, f: (...xs: Tensor[]) => Tensor, args: () => Tensor[] | Promise<Tensor[]>, opts: GradCheckOptions = {}): void {
  s(name, async () => {
    const xs = await args();
    try {
      const r = await checkGrads(f, xs, { order: 2, name, ...opts });
      if (process.env.GRADCHECK_VERBOSE) {
        const q = (r: any) => [Math.abs(r.forward - r.reverse) / r.dotTol, Math.abs(r.forward - r.finiteDiff) / r.fdTol, Math.abs(r.reverse - r.finiteDiff) / r.fdTol].map((v) => v.toFixed(3)).join(' ');
        console.log(name.padEnd(50), q(r), '|', q(r.second), '|', q(r.secondForward));
      }
      // A check on all-zero derivatives would prove nothing.
      assert.ok(Math.abs(r.finiteDiff) > 1e-6, `${name}: the directional derivative is ~0, the check proves nothing`);
    } finally {
      ht.dispose(xs);
    }
  });
}

// ---- unary elementwise ----------------------------------------------------------------------

const S = [3, 5];
check('neg', (x) => ht.neg(x), () => [rand(S)]);
check('abs', (x) => ht.abs(x), () => [awayFromZero(S)]);
check('exp', (x) => ht.exp(x), () => [rand(S)]);
check('log', (x) => ht.log(x), () => [rand(S, 0.5, 2)]);
check('sqrt', (x) => ht.sqrt(x), () => [rand(S, 0.5, 2)]);
check('square', (x) => ht.square(x), () => [rand(S)]);
check('sin', (x) => ht.sin(x), () => [rand(S, -3, 3)]);
check('cos', (x) => ht.cos(x), () => [rand(S, -3, 3)]);
check('tanh', (x) => ht.tanh(x), () => [rand(S, -2, 2)]);
check('sigmoid', (x) => ht.sigmoid(x), () => [rand(S, -3, 3)]);
check('relu', (x) => ht.relu(x), () => [awayFromZero(S)]);
check('softplus', (x) => ht.softplus(x), () => [rand(S, -3, 3)]);
check('logSigmoid', (x) => ht.logSigmoid(x), () => [rand(S, -3, 3)]);

// ---- binary elementwise, with broadcasting ----------------------------------------------------

// Shape pairs: equal; a lower-rank second operand; a lower-rank first operand; both broadcast.
const PAIRS: [Shape, Shape][] = [
  [[3, 4], [3, 4]],
  [[3, 4], [4]],
  [[4], [3, 4]],
  [[2, 1, 4], [3, 1]],
];
for (const [sa, sb] of PAIRS) {
  const tag = `[${sa}] & [${sb}]`;
  check(`add ${tag}`, (a, b) => ht.add(a, b), () => [rand(sa), rand(sb)]);
  check(`sub ${tag}`, (a, b) => ht.sub(a, b), () => [rand(sa), rand(sb)]);
  check(`mul ${tag}`, (a, b) => ht.mul(a, b), () => [rand(sa), rand(sb)]);
  check(`div ${tag}`, (a, b) => ht.div(a, b), () => [rand(sa), rand(sb, 0.5, 2)]);
  check(`pow ${tag}`, (a, b) => ht.pow(a, b), () => [rand(sa, 0.5, 2), rand(sb, -1.5, 1.5)]);
}
check('maximum', (a, b) => ht.maximum(a, b), async () => {
  const a = rand([3, 4]);
  return [a, await apart(a)];
});
check('minimum', (a, b) => ht.minimum(a, b), async () => {
  const a = rand([3, 4]);
  return [a, await apart(a)];
});
check('maximum with a broadcast number', (a) => ht.maximum(a, 0.05), () => [awayFromZero([3, 4])]);
check('minimum with a broadcast row', (a) => ht.minimum(ht.add(a, 0), ht.mul(a, 0.5)), () => [awayFromZero([3, 4])]);
check('mul(x, x): one tensor as both operands', (a) => ht.mul(a, a), () => [rand([3, 4])]);
check('div(x, x + 2): fan-out into both operands', (a) => ht.div(a, ht.add(a, 2)), () => [rand([3, 4])]);
check('pow with a number exponent', (a) => ht.pow(a, 3), () => [rand([3, 4], 0.5, 2)]);
check('number minus tensor', (a) => ht.sub(2, a), () => [rand([3, 4])]);
check('number over tensor', (a) => ht.div(2, a), () => [rand([3, 4], 0.5, 2)]);

// Only the lower-rank operand moves: its tangent alone must be broadcast by the op's JVP.
{
  let A: Tensor | null = null;
  const fixedA = (): Tensor => (A ??= ht.keep(rand([2, 3, 4])));
  check('add: only a broadcast [4] operand moves', (b) => ht.add(fixedA(), b), () => [rand([4])]);
  check('mul: only a broadcast [3, 1] operand moves', (b) => ht.mul(b, fixedA()), () => [rand([3, 1])]);
  check('div: only a broadcast [4] divisor moves', (b) => ht.div(fixedA(), b), () => [rand([4], 0.5, 2)]);
  check('where: only a broadcast [4] branch moves', (b) => ht.where(ht.greater(fixedA(), 0), fixedA(), b), () => [rand([4])]);
}

// ---- where ----------------------------------------------------------------------------------

{
  let cond: Tensor | null = null;
  const c = (): Tensor => (cond ??= ht.keep(ht.greater(rand([3, 4]), 0)));
  check('where', (a, b) => ht.where(c(), a, b), () => [rand([3, 4]), rand([3, 4])]);
  check('where with broadcast branches', (a, b) => ht.where(c(), a, b), () => [rand([4]), rand([3, 1])]);
  check('where with a number branch', (a) => ht.where(c(), a, 0.5), () => [rand([3, 4])]);
}

// ---- reductions -----------------------------------------------------------------------------

check('sum of all', (x) => ht.sum(x), () => [rand([3, 4])]);
check('sum axis 0', (x) => ht.sum(x, 0), () => [rand([3, 4])]);
check('sum axis 1 keepdims', (x) => ht.sum(x, 1, true), () => [rand([3, 4])]);
check('sum axes [0, 2] (not contiguous)', (x) => ht.sum(x, [0, 2]), () => [rand([2, 3, 4])]);
check('sum axes [0, 2] keepdims', (x) => ht.sum(x, [0, 2], true), () => [rand([2, 3, 4])]);
check('sum of long rows (tree reduction)', (x) => ht.sum(x, 1), () => [rand([2, 700])], { ulps: 32 });
check('max of all', (x) => ht.max(x), () => [distinct([3, 4])]);
check('max axis 1', (x) => ht.max(x, 1), () => [distinct([3, 4])]);
check('max axis 0 keepdims', (x) => ht.max(x, 0, true), () => [distinct([3, 4])]);
check('max axes [0, 2]', (x) => ht.max(x, [0, 2]), () => [distinct([2, 3, 4])]);
check('max of long rows', (x) => ht.max(x, -1), () => [distinct([2, 300])]);
check('mean of all', (x) => ht.mean(x), () => [rand([3, 4])]);
check('mean axes [1, 2] keepdims', (x) => ht.mean(x, [1, 2], true), () => [rand([2, 3, 4])]);
check('logsumexp of all', (x) => ht.logsumexp(x), () => [rand([3, 4], -2, 2)]);
check('logsumexp axis -1', (x) => ht.logsumexp(x, -1), () => [rand([3, 4], -2, 2)]);
check('logsumexp axes [0, 2] keepdims', (x) => ht.logsumexp(x, [0, 2], true), () => [rand([2, 3, 4], -2, 2)]);
check('softmax axis -1', (x) => ht.softmax(x, -1), () => [rand([3, 5], -2, 2)]);
check('softmax axis 0', (x) => ht.softmax(x, 0), () => [rand([3, 5], -2, 2)]);
check('logSoftmax axis -1', (x) => ht.logSoftmax(x, -1), () => [rand([3, 5], -2, 2)]);
check('logSoftmax axis 1 of rank 3', (x) => ht.logSoftmax(x, 1), () => [rand([2, 3, 4], -2, 2)]);

// ---- matmul ---------------------------------------------------------------------------------

for (const transA of [false, true]) {
  for (const transB of [false, true]) {
    const sa = transA ? [4, 3] : [3, 4];
    const sb = transB ? [5, 4] : [4, 5];
    check(`matmul transA=${transA} transB=${transB}`, (a, b) => ht.matmul(a, b, { transA, transB }), () => [rand(sa), rand(sb)]);
    check(`batched matmul transA=${transA} transB=${transB}`, (a, b) => ht.matmul(a, b, { transA, transB }), () => [rand([2, ...sa]), rand([2, ...sb])]);
  }
}
check('matmul [2, 3, 4] @ [4, 5] (batch broadcasts b)', (a, b) => ht.matmul(a, b), () => [rand([2, 3, 4]), rand([4, 5])]);
check('matmul [3, 4] @ [2, 4, 5] (batch broadcasts a)', (a, b) => ht.matmul(a, b), () => [rand([3, 4]), rand([2, 4, 5])]);
check('matmul [2, 1, 3, 4] @ [3, 4, 5]^T-flags', (a, b) => ht.matmul(a, b, { transB: true }), () => [rand([2, 1, 3, 4]), rand([3, 5, 4])]);
check('matmul [3, 4] @ [2, 4, 5]: only b moves', (b) => ht.matmul(fixed34(), b), () => [rand([2, 4, 5])]);
check('matmul [2, 3, 4] @ [4, 5]: only b moves', (b) => ht.matmul(fixed234(), b), () => [rand([4, 5])]);
check('matmul skinny kernel [70, 80] @ [80, 5]', (a, b) => ht.matmul(a, b), () => [rand([70, 80]), rand([80, 5])], { ulps: 32 });
check('matmul skinny kernel [70, 80] @ [5, 80]^T', (a, b) => ht.matmul(a, b, { transB: true }), () => [rand([70, 80]), rand([5, 80])], { ulps: 32 });
let m34: Tensor | null = null;
let m234: Tensor | null = null;
function fixed34(): Tensor {
  return (m34 ??= ht.keep(rand([3, 4])));
}
function fixed234(): Tensor {
  return (m234 ??= ht.keep(rand([2, 3, 4])));
}

// ---- shape ops ------------------------------------------------------------------------------

check('reshape', (x) => ht.reshape(x, [4, -1]), () => [rand([2, 3, 4])]);
check('permute [2, 0, 1]', (x) => ht.permute(x, [2, 0, 1]), () => [rand([2, 3, 4])]);
check('transpose', (x) => ht.transpose(x), () => [rand([2, 3, 4])]);
check('broadcastTo [4] -> [3, 4]', (x) => ht.broadcastTo(x, [3, 4]), () => [rand([4])]);
check('broadcastTo [3, 1] -> [2, 3, 5]', (x) => ht.broadcastTo(x, [2, 3, 5]), () => [rand([3, 1])]);
check('slice', (x) => ht.slice(x, [1, 0, 2], [2, -1, 2]), () => [rand([3, 3, 5])]);
check('pad', (x) => ht.pad(x, [1, 0], [2, 3]), () => [rand([3, 4])]);
check('concat axis 1 of three', (a, b, c) => ht.concat([a, b, c], 1), () => [rand([2, 1, 3]), rand([2, 4, 3]), rand([2, 2, 3])]);
check('concat with one moving part', (a) => ht.concat([fixed34(), a], 0), () => [rand([2, 4])]);
check('stack axis 0', (a, b) => ht.stack([a, b], 0), () => [rand([3, 4]), rand([3, 4])]);
check('stack axis 2', (a, b) => ht.stack([a, b], 2), () => [rand([3, 4]), rand([3, 4])]);
{
  let idx: Tensor | null = null;
  const indices = (): Tensor => (idx ??= ht.keep(tensor(new Int32Array([2, 0, 2, 1, 2]))));
  check('gather axis 0 (repeated indices)', (x) => ht.gather(x, indices(), 0), () => [rand([3, 4])]);
  check('gather axis 1 of rank 3', (x) => ht.gather(x, indices(), 1), () => [rand([2, 3, 4])]);
  // Depth 4: bucket 3 stays empty.
  check('scatterAdd axis 0 (repeated indices, an empty bucket)', (g) => ht.scatterAdd(g, indices(), 0, 4), () => [rand([5, 3])]);
  check('scatterAdd axis 1 of rank 3', (g) => ht.scatterAdd(g, indices(), 1, 3), () => [rand([2, 5, 4])]);
  check('gather of a scatterAdd (both rules nested)', (g) => ht.gather(ht.scatterAdd(ht.square(g), indices(), 0, 3), indices(), 0), () => [rand([5, 2])]);
}

// ---- compositions ---------------------------------------------------------------------------

{
  let lab: Tensor | null = null;
  const labels = (): Tensor => (lab ??= ht.keep(tensor(new Int32Array([0, 3, 1, 3, 2, 0]))));
  check('softmax cross-entropy of a linear model', (X, W) => {
    const logits = ht.matmul(X, W, { transB: true });
    return ht.mean(ht.neg(ht.sum(ht.mul(ht.oneHot(labels(), 4), ht.logSoftmax(logits, -1)), -1)));
  }, () => [rand([6, 5]), rand([4, 5])]);
}
check('a two-layer tanh network', (x, W1, W2) => ht.sum(ht.square(ht.matmul(ht.tanh(ht.matmul(x, W1)), W2))), () => [rand([4, 3]), rand([3, 6]), rand([6, 2])]);

s('nondifferentiable ops pass no gradient', async () => {
  const x = rand([3, 4]);
  const g = ht.grad((x: Tensor) => ht.sum(ht.add(ht.mul(ht.greater(x, 0), x), ht.stopGradient(ht.square(x)))))(x);
  const xv = await x.data();
  const gv = await g.data();
  xv.forEach((v, i) => assert.is(gv[i], v > 0 ? 1 : 0));
  ht.dispose([x, g]);
});

s.run();
