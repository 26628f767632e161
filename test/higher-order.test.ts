// Second (and third) order: hvp against finite differences of gradients, grad(grad(f)) against
// analytic second derivatives, gradients of gradients on an explicit outer tape, and the pattern
// the bilevel solvers rest on: the VJP (and JVP) of one gradient-descent step
// Xi(w, lambda) = w - gamma * grad_w g(w, lambda) with respect to both w and lambda.
//
// Finite differences here are central differences of f32 gradients with one Richardson step
// (step h = 1e-2 along directions with entries in [-1, 1], truncation error O(h^4)); the
// tolerance per element is 3e-4 relative plus 3 * 8 ulps * max|gradient| / h for the f32
// rounding of the two gradients the difference divides by 2h.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { Tape, Tensor, tensor, type Shape } from '../src/node.js';
import { setup, randArray, assertClose } from './helpers.js';
import { checkGrads, directional, fdTolerance } from './gradcheck.js';

const s = suite('higher-order');
s.before(setup);

function rand(shape: Shape, seed: number, lo = -1, hi = 1): Tensor {
  return tensor(Float32Array.from(randArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi)), shape);
}

async function f64(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data());
}

// ---- hvp ------------------------------------------------------------------------------------

// A smooth, non-quadratic scalar function with couplings between coordinates.
let a: Tensor | null = null;
function f(x: Tensor): Tensor {
  a ??= ht.keep(rand([6, 4], 11));
  const z = ht.matmul(a, ht.reshape(x, [4, 1])); // [6, 1]
  return ht.add(ht.logsumexp(ht.mul(z, 1.5)), ht.sum(ht.mul(ht.softplus(z), ht.sin(z))));
}

s('hvp equals finite differences of gradients', async () => {
  const x = rand([4], 1);
  const v = rand([4], 2);
  const hv = ht.hvp(f, x, v);
  const { value, scale } = await directional(([xx]) => ht.grad(f)(xx!), [await f64(x)], [await f64(v)], [[4]]);
  const got = await f64(hv);
  assertClose(got, value, fdTolerance(scale), 'hvp vs differences of gradients');
  assert.ok(got.some((e) => Math.abs(e) > 1e-2), 'a vanishing Hessian-vector product proves nothing');
  ht.dispose([x, v, hv]);
});

s('hvp equals reverse-over-reverse grad(<grad f, v>)', async () => {
  const x = rand([4], 3);
  const v = rand([4], 4);
  const hv = ht.hvp(f, x, v);
  const rr = ht.grad((xx: Tensor) => ht.sum(ht.mul(ht.grad(f)(xx), v)))(x);
  assertClose(await f64(hv), await f64(rr), { rtol: 1e-5, atol: 1e-6 }, 'forward-over-reverse vs reverse-over-reverse');
  ht.dispose([x, v, hv, rr]);
});

s('hvp of a quadratic 0.5 x^T Q x is Q v', async () => {
  const B = rand([5, 5], 5);
  const Q = ht.matmul(B, B, { transA: true }); // symmetric
  const x = rand([5, 1], 6);
  const v = rand([5, 1], 7);
  const quad = (xx: Tensor): Tensor => ht.mul(ht.sum(ht.mul(xx, ht.matmul(Q, xx))), 0.5);
  const hv = ht.hvp(quad, x, v);
  const qv = ht.matmul(Q, v);
  assertClose(await f64(hv), await f64(qv), { rtol: 1e-5, atol: 1e-6 }, 'H v');
  ht.dispose([B, Q, x, v, hv, qv]);
});

s('hvp on a weighted softmax cross-entropy (the hypercleaning loss, small)', async () => {
  const X = rand([12, 7], 8);
  const labels = tensor(new Int32Array([0, 1, 2, 0, 1, 2, 2, 1, 0, 0, 2, 1]));
  const Y = ht.oneHot(labels, 3);
  const lambda = rand([12], 9, -2, 2);
  const loss = (W: Tensor): Tensor => {
    const ce = ht.neg(ht.sum(ht.mul(Y, ht.logSoftmax(ht.matmul(X, W, { transB: true }), -1)), -1));
    return ht.add(ht.mean(ht.mul(ht.sigmoid(lambda), ce)), ht.mul(ht.sum(ht.square(W)), 1e-3));
  };
  const W = rand([3, 7], 10);
  const V = rand([3, 7], 11);
  const hv = ht.hvp(loss, W, V);
  const { value, scale } = await directional(([w]) => ht.grad(loss)(w!), [await f64(W)], [await f64(V)], [[3, 7]]);
  assertClose(await f64(hv), value, fdTolerance(scale), 'hvp of the weighted cross-entropy');
  ht.dispose([X, labels, Y, lambda, W, V, hv]);
});

// ---- grad(grad(f)) on scalar functions ------------------------------------------------------

const POINTS = [-2.5, -1.2, -0.3, 0.4, 1.1, 2.7];

/** d^2/dx^2 of an elementwise f at every point, by grad(grad(.)) of the sum. */
async function secondDerivative(fn: (x: Tensor) => Tensor, xs: number[]): Promise<Float64Array> {
  const x = tensor(xs);
  const d1 = (y: Tensor): Tensor => ht.grad((z: Tensor) => ht.sum(fn(z)))(y);
  const d2 = ht.grad((y: Tensor) => ht.sum(d1(y)))(x);
  const out = await f64(d2);
  ht.dispose([x, d2]);
  return out;
}

const sigma = (x: number): number => 1 / (1 + Math.exp(-x));

s('grad(grad(sin)) = -sin', async () => {
  assertClose(await secondDerivative(ht.sin, POINTS), POINTS.map((x) => -Math.sin(x)), { rtol: 1e-5, atol: 1e-6 }, 'sin\'\'');
});

s('grad(grad(exp)) = exp', async () => {
  assertClose(await secondDerivative(ht.exp, POINTS), POINTS.map(Math.exp), { rtol: 1e-5, atol: 1e-6 }, 'exp\'\'');
});

s('grad(grad(logSigmoid)) = -sigmoid(x) sigmoid(-x)', async () => {
  assertClose(await secondDerivative(ht.logSigmoid, POINTS), POINTS.map((x) => -sigma(x) * sigma(-x)), { rtol: 1e-5, atol: 1e-6 }, 'logSigmoid\'\'');
});

s('grad(grad(grad(sin))) = -cos (third order)', async () => {
  const x = tensor(POINTS);
  const d1 = (y: Tensor): Tensor => ht.grad((z: Tensor) => ht.sum(ht.sin(z)))(y);
  const d2 = (y: Tensor): Tensor => ht.grad((z: Tensor) => ht.sum(d1(z)))(y);
  const d3 = ht.grad((y: Tensor) => ht.sum(d2(y)))(x);
  assertClose(await f64(d3), POINTS.map((p) => -Math.cos(p)), { rtol: 1e-5, atol: 1e-6 }, 'sin\'\'\'');
  ht.dispose([x, d3]);
});

s('grad(grad(.)) of a softmax cross-entropy along a line = the variance of c under softmax', async () => {
  // CE(t) = logsumexp(t c + d) - (t c_k + d_k); CE'(t) = E_p[c] - c_k; CE''(t) = Var_p[c].
  const c = [0.7, -1.3, 0.4, 2.1, -0.5];
  const d = [0.1, 0.5, -0.8, -1.0, 0.3];
  const k = 2;
  const C = tensor(c);
  const Dv = tensor(d);
  const Y = ht.oneHot(tensor(new Int32Array([k])), 5);
  const ce = (t: Tensor): Tensor => {
    const logits = ht.reshape(ht.add(ht.mul(t, C), Dv), [1, 5]);
    return ht.neg(ht.sum(ht.mul(Y, ht.logSoftmax(logits, -1))));
  };
  for (const t0 of [-1.5, 0, 0.8]) {
    const t = tensor(t0);
    const d1 = ht.grad(ce)(t);
    const d2 = ht.grad((y: Tensor) => ht.grad(ce)(y))(t);
    const z = c.map((ci, i) => t0 * ci + d[i]!);
    const zmax = Math.max(...z);
    const e = z.map((zi) => Math.exp(zi - zmax));
    const p = e.map((ei) => ei / e.reduce((a, b) => a + b, 0));
    const mean = p.reduce((acc, pi, i) => acc + pi * c[i]!, 0);
    const variance = p.reduce((acc, pi, i) => acc + pi * (c[i]! - mean) ** 2, 0);
    assertClose([await d1.item()], [mean - c[k]!], { rtol: 1e-5, atol: 1e-6 }, `CE'(${t0})`);
    assertClose([await d2.item()], [variance], { rtol: 1e-5, atol: 1e-6 }, `CE''(${t0})`);
    ht.dispose([t, d1, d2]);
  }
  ht.dispose([C, Dv, Y]);
});

// ---- every composition of two modes gives the same Hessian -----------------------------------

s('reverse-over-forward: grad of a jvp tangent equals hvp', async () => {
  const x = rand([4], 30);
  const v = rand([4], 31);
  const viaGrad = ht.grad((xx: Tensor) => ht.jvp(f, [xx], [v]).tangent)(x);
  const hv = ht.hvp(f, x, v);
  assertClose(await f64(viaGrad), await f64(hv), { rtol: 1e-5, atol: 1e-6 }, 'grad(<grad f, v>) by reverse-over-forward');
  ht.dispose([x, v, viaGrad, hv]);
});

s('forward-over-forward: a jvp of a jvp gives w^T H v', async () => {
  const x = rand([4], 32);
  const v = rand([4], 33);
  const w = rand([4], 34);
  const inner = (xx: Tensor): Tensor => ht.jvp(f, [xx], [v]).tangent;
  const { out, tangent } = ht.jvp(inner, [x], [w]);
  const hv = ht.hvp(f, x, v);
  const wHv = ht.sum(ht.mul(w, hv));
  assertClose([await tangent.item()], [await wHv.item()], { rtol: 1e-5, atol: 1e-6 }, 'w^T H v');
  // The inner jvp's value is the first directional derivative, <grad f, v>.
  const gv = ht.sum(ht.mul(ht.grad(f)(x), v));
  assertClose([await out.item()], [await gv.item()], { rtol: 1e-5, atol: 1e-6 }, '<grad f, v>');
  ht.dispose([x, v, w, out, tangent, hv, wHv, gv]);
});

s('jvpBatch through a gradient gives N Hessian-vector products at once (FMD\'s pattern)', async () => {
  const x = rand([4], 35);
  const V = rand([3, 4], 36);
  const { out, tangent } = ht.jvpBatch((xx: Tensor) => ht.grad(f)(xx), [x], [V], 3);
  for (let k = 0; k < 3; k++) {
    const vk = ht.reshape(ht.slice(V, [k, 0], [1, 4]), [4]);
    const hv = ht.hvp(f, x, vk);
    const row = ht.reshape(ht.slice(tangent, [k, 0], [1, 4]), [4]);
    assertClose(await f64(row), await f64(hv), { rtol: 1e-5, atol: 1e-6 }, `direction ${k}`);
    ht.dispose([vk, hv, row]);
  }
  ht.dispose([x, V, out, tangent]);
});

// ---- gradients of gradients on an explicit outer tape -----------------------------------------

s('a backward pass under an outer tape is recorded there: grad of ||grad f||^2 = 2 H grad f', async () => {
  const x = rand([4], 12);
  const outer = new Tape({ name: 'outer' }).watch(x);
  const y = outer.run(() => {
    const g = ht.grad(f)(x);
    return ht.sum(ht.square(g));
  });
  const [gy] = outer.gradient(y, [x]);
  outer.dispose();
  const g = ht.grad(f)(x);
  const twoHg = ht.mul(ht.hvp(f, x, g), 2);
  assertClose(await f64(gy!), await f64(twoHg), { rtol: 1e-5, atol: 1e-6 }, 'd/dx ||grad f||^2');
  ht.dispose([x, y, gy, g, twoHg]);
});

// ---- the VJP of a gradient-descent step (RMD's A_t alpha and B_t alpha) ---------------------------

/** Xi(w, lambda) = w - gamma * grad_w g(w, lambda), g the weighted cross-entropy plus 0.01 ||w||^2. */
function makeStep(): { step: (w: Tensor, lambda: Tensor) => Tensor; free: () => void } {
  const X = ht.keep(rand([10, 6], 20));
  const Y = ht.keep(ht.oneHot(tensor(new Int32Array([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])), 4));
  const gamma = 0.7;
  const inner = (w: Tensor, lambda: Tensor): Tensor => {
    const ce = ht.neg(ht.sum(ht.mul(Y, ht.logSoftmax(ht.matmul(X, w, { transB: true }), -1)), -1));
    return ht.add(ht.mean(ht.mul(ht.sigmoid(lambda), ce)), ht.mul(ht.sum(ht.square(w)), 0.01));
  };
  const step = (w: Tensor, lambda: Tensor): Tensor => ht.sub(w, ht.mul(ht.grad(inner)(w, lambda), gamma));
  return { step, free: () => ht.dispose([X, Y]) };
}

s('the VJP of a gradient step w.r.t. (w, lambda) matches finite differences element by element', async () => {
  const { step, free } = makeStep();
  const w = rand([4, 6], 21, -0.5, 0.5);
  const lambda = rand([10], 22, -2, 2);
  const alpha = rand([4, 6], 23);
  const r = ht.vjp(step, w, lambda);
  const [Aalpha, Balpha] = r.pullback(alpha);
  r.out.dispose();
  const got = [await f64(Aalpha!), await f64(Balpha!)];
  // Each coordinate j of (w, lambda): d/dx_j <alpha, Xi(w, lambda)> by central differences.
  const xs = [await f64(w), await f64(lambda)];
  const alphaV = await f64(alpha);
  const shapes = [w.shape, lambda.shape];
  const scalar = ([ww, ll]: Tensor[]): Tensor => ht.sum(ht.mul(step(ww!, ll!), alpha));
  for (let which = 0; which < 2; which++) {
    const expected = new Float64Array(xs[which]!.length);
    let scale = 0;
    for (let j = 0; j < expected.length; j++) {
      const dir = xs.map((x, i) => new Float64Array(x.length).fill(0).map((_, k) => (i === which && k === j ? 1 : 0)));
      const { value, scale: sc } = await directional((ts) => scalar(ts), xs, dir, shapes);
      expected[j] = value[0]!;
      scale = Math.max(scale, sc);
    }
    // The scalar <alpha, Xi> sums 24 terms, so its rounding scale is sum |alpha_i| |Xi_i|.
    const xi = ht.tidy(() => step(w, lambda));
    const roundScale = (await f64(xi)).reduce((acc, e, i) => acc + Math.abs(e * alphaV[i]!), 0);
    xi.dispose();
    assertClose(got[which]!, expected, fdTolerance(Math.max(scale, roundScale)), which === 0 ? 'A alpha (w part)' : 'B alpha (lambda part)');
    assert.ok(got[which]!.some((e) => Math.abs(e) > 1e-3), 'the check needs a non-vanishing VJP');
  }
  ht.dispose([w, lambda, alpha, Aalpha, Balpha]);
  free();
});

s('the gradient step passes the full derivative check to second order (jvp = forward-over-reverse, jvpBatch = FMD)', async () => {
  const { step, free } = makeStep();
  const w = rand([4, 6], 24, -0.5, 0.5);
  const lambda = rand([10], 25, -2, 2);
  try {
    await checkGrads(step, [w, lambda], { order: 2, name: 'gradient step Xi(w, lambda)' });
  } finally {
    ht.dispose([w, lambda]);
    free();
  }
});

// ---- the functional API: structures, and nothing left behind --------------------------------

s('valueAndGrad over several arguments holding nested arrays and objects', async () => {
  const p = { w: tensor([[0.5, -1], [2, 0.25]]), bs: [tensor([0.1, 0.2]), tensor([-0.3])] };
  const x = tensor([1.5, -0.5]);
  const loss = (params: typeof p, xx: Tensor): Tensor =>
    ht.add(ht.sum(ht.mul(ht.matmul(params.w, ht.reshape(xx, [2, 1])), ht.reshape(params.bs[0]!, [2, 1]))), ht.mul(ht.sum(ht.square(xx)), params.bs[1]!));
  const { value, grads } = ht.valueAndGrad(loss, { argnums: [0, 1] })(p, x);
  const [gp, gx] = grads as [typeof p, Tensor];
  // loss = b0^T W x + b1 ||x||^2: dW = b0 x^T, db0 = W x, db1 = ||x||^2, dx = W^T b0 + 2 b1 x.
  const [W, b0, b1, xv] = [[[0.5, -1], [2, 0.25]], [0.1, 0.2], -0.3, [1.5, -0.5]];
  const Wx = W.map((r) => r[0]! * xv[0]! + r[1]! * xv[1]!);
  assertClose([await value.item()], [b0[0]! * Wx[0]! + b0[1]! * Wx[1]! + b1 * (xv[0]! ** 2 + xv[1]! ** 2)], { rtol: 1e-6 }, 'value');
  assertClose(await gp.w.data(), [b0[0]! * xv[0]!, b0[0]! * xv[1]!, b0[1]! * xv[0]!, b0[1]! * xv[1]!], { rtol: 1e-6 }, 'dW');
  assertClose(await gp.bs[0]!.data(), Wx, { rtol: 1e-6 }, 'db0');
  assertClose(await gp.bs[1]!.data(), [xv[0]! ** 2 + xv[1]! ** 2], { rtol: 1e-6 }, 'db1');
  assertClose(await gx.data(), [0, 1].map((j) => W[0]![j]! * b0[0]! + W[1]![j]! * b0[1]! + 2 * b1 * xv[j]!), { rtol: 1e-6 }, 'dx');
  ht.dispose([p, x, value, grads]);
});

s('no buffers are left behind by grad, vjp, jvp, jvpBatch, hvp and their compositions', async () => {
  const x = rand([4], 40);
  const v = rand([4], 41);
  const V = rand([2, 4], 42);
  const once = (): void => {
    ht.dispose(ht.grad(f)(x));
    ht.dispose(ht.valueAndGrad(f)(x));
    const r = ht.vjp((xx: Tensor) => ht.softmax(ht.mul(xx, 2)), x);
    ht.dispose([r.out, r.pullback(v)]);
    ht.dispose(ht.jvp(f, [x], [v]));
    ht.dispose(ht.jvpBatch(f, [x], [V], 2));
    ht.dispose(ht.hvp(f, x, v));
    ht.dispose(ht.grad((xx: Tensor) => ht.sum(ht.mul(ht.grad(f)(xx), v)))(x));
    ht.dispose(ht.grad((xx: Tensor) => ht.jvp(f, [xx], [v]).tangent)(x));
    ht.dispose(ht.jvp((xx: Tensor) => ht.jvp(f, [xx], [v]).tangent, [x], [v]));
    ht.dispose(ht.jvpBatch((xx: Tensor) => ht.grad(f)(xx), [x], [V], 2));
  };
  once(); // the first call fills caches (constants, pipelines)
  await ht.sync();
  const before = ht.memory();
  once();
  once();
  await ht.sync();
  const after = ht.memory();
  assert.is(after.liveBuffers, before.liveBuffers, 'live buffers');
  assert.is(after.liveBytes, before.liveBytes, 'live bytes');
  ht.dispose([x, v, V]);
});

s.run();
