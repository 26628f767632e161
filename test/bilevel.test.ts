// Hypergradient methods against closed forms, finite differences and each other (issue 4).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  setMatmulTextures,
  Tensor, tensor, tidy, dispose, memory, resetPeak, add, mul, sub, sum, square, matmul, reshape, exp, softplus, mean, full,
  hypergradient, gradientDescent, heavyBall, SGD, Adam, maximum, descentRatio, cosineSimilarity, relativeError, prop31Bound,
  type BilevelProblem, type HeavyBallState,
} from '../src/node.js';
import { toyProblem, toyHypergradient, toyGradF, toyWHat, TOY } from '../src/experiments/toy-problem.js';
import { setup, values, assertClose, randArray } from './helpers.js';

const s = suite('bilevel');
s.before(setup);

// f32 through T = 100 steps: the closed forms agree to ~1e-6 relative; 2e-5 leaves room.
const TOY_TOL = { rtol: 2e-5, atol: 2e-5 };
const LAMBDAS = [[1, 1], [-0.5, 2], [0.3, -1.2]];

s('toy: rmd, checkpoint and fmd match the closed form (I - C) grad f(w_hat)', async () => {
  for (const objective of ['f', 'f~'] as const) {
    const p = toyProblem({ objective });
    for (const lam of LAMBDAS) {
      const lambda = tensor(lam);
      const exact = toyHypergradient(lam, TOY.T, { objective });
      for (const method of ['rmd', 'checkpoint', 'fmd'] as const) {
        const r = await hypergradient(p, lambda, { method });
        assertClose(await values(r.grad), exact, TOY_TOL, `${method} ${objective} at (${lam})`);
        assert.is(r.stats.readbacks, 1, `${method}: one readback (f) per hypergradient`);
        r.grad.dispose();
      }
      lambda.dispose();
    }
    p.dispose();
  }
});

s('toy: krmd matches (I - (I - gamma G)^K) grad f(w_hat); K = T equals rmd', async () => {
  const p = toyProblem();
  for (const lam of LAMBDAS) {
    const lambda = tensor(lam);
    for (const K of [1, 2, 5, 25, 99]) {
      const r = await hypergradient(p, lambda, { method: 'krmd', K });
      assertClose(await values(r.grad), toyHypergradient(lam, K), TOY_TOL, `krmd K=${K} at (${lam})`);
      r.grad.dispose();
      const c = await hypergradient(p, lambda, { method: 'checkpoint', K, every: 3 });
      assertClose(await values(c.grad), toyHypergradient(lam, K), TOY_TOL, `checkpointed krmd K=${K}`);
      c.grad.dispose();
    }
    const full = await hypergradient(p, lambda, { method: 'krmd', K: TOY.T });
    const rmd = await hypergradient(p, lambda, { method: 'rmd' });
    assert.equal(await values(full.grad), await values(rmd.grad));
    dispose([full.grad, rmd.grad, lambda]);
  }
  p.dispose();
});

/** A small least-squares problem with heavy-ball momentum whose step size and momentum are learned. */
function momentumProblem(T: number) {
  const n = 12;
  const d = 5;
  const X = tensor(randArray(n * d, 1), [n, d]);
  const y = tensor(randArray(n, 2), [n, 1]);
  const Xv = tensor(randArray(n * d, 3), [n, d]);
  const yv = tensor(randArray(n, 4), [n, 1]);
  // lambda = { reg: [d] (log of per-feature ridge weights), lr: [] , mom: [] }
  type L = { reg: Tensor; lr: Tensor; mom: Tensor };
  const inner = (w: Tensor, l: L) => add(mean(square(sub(matmul(X, w), y))), mul(sum(mul(exp(l.reg), square(reshape(w, [d])))), 0.5));
  const problem: BilevelProblem<HeavyBallState, L> = {
    T,
    init: () => ({ w: full([d, 1], 0.1), v: full([d, 1], 0) }),
    step: heavyBall(inner, { stepSize: (l) => mul(softplus(l.lr), 0.2), momentum: (l) => mul(softplus(l.mom), 0.3) }),
    outer: (st) => mean(square(sub(matmul(Xv, st.w), yv))),
  };
  const lambda: L = { reg: tensor(randArray(d, 5, -1, 0)), lr: tensor(0.3), mom: tensor(-0.2) };
  return { problem, lambda, dispose: () => dispose([X, y, Xv, yv, lambda]) };
}

async function outerValue<S extends import('../src/node.js').Tree, L extends import('../src/node.js').Tree>(p: BilevelProblem<S, L>, lambda: L): Promise<number> {
  let w = tidy(() => p.init(lambda));
  for (let t = 0; t < p.T; t++) {
    const prev = w;
    w = tidy(() => p.step(prev, lambda, t));
    dispose(prev);
  }
  const f = tidy(() => p.outer(w, lambda));
  const v = await f.item();
  dispose([w, f]);
  return v;
}

s('heavy ball with learnable step and momentum: rmd = checkpoint = fmd = finite differences', async () => {
  const { problem, lambda, dispose: done } = momentumProblem(15);
  const rmd = await hypergradient(problem, lambda, { method: 'rmd' });
  const flat = async (g: typeof lambda) => [...(await values(g.reg)), ...(await values(g.lr)), ...(await values(g.mom))];
  const r = await flat(rmd.grad);
  for (const opts of [{ method: 'checkpoint' as const, every: 4 }, { method: 'fmd' as const, chunk: 3 }]) {
    const other = await hypergradient(problem, lambda, opts);
    assertClose(await flat(other.grad), r, { rtol: 1e-4, atol: 1e-6 }, opts.method);
    dispose(other.grad);
  }
  // Central differences of the outer value in f32: step 1e-2, truncation ~1e-4, rounding ~1e-5 relative.
  const h = 1e-2;
  const fd: number[] = [];
  const leaves = [lambda.reg, lambda.lr, lambda.mom];
  for (const leaf of leaves) {
    const base = Array.from(await leaf.data());
    for (let i = 0; i < base.length; i++) {
      const at = async (delta: number) => {
        const v = [...base];
        v[i]! += delta;
        const t = tensor(v, leaf.shape);
        const l2 = { ...lambda, [leaf === lambda.reg ? 'reg' : leaf === lambda.lr ? 'lr' : 'mom']: t };
        const out = await outerValue(problem, l2);
        t.dispose();
        return out;
      };
      fd.push(((await at(h)) - (await at(-h))) / (2 * h));
    }
  }
  assertClose(r, fd, { rtol: 2e-2, atol: 2e-4 }, 'rmd vs central differences');
  dispose(rmd.grad);
  done();
});

/** Ridge logistic regression: a smooth, strongly convex inner problem that is not quadratic. */
function logisticProblem(T: number) {
  const n = 20;
  const d = 4;
  const X = tensor(randArray(n * d, 11), [n, d]);
  const y = tensor(randArray(n, 12).map((v) => (v > 0 ? 1 : -1)), [n, 1]);
  const Xv = tensor(randArray(n * d, 13), [n, d]);
  const yv = tensor(randArray(n, 14).map((v) => (v > 0 ? 1 : -1)), [n, 1]);
  const inner = (w: Tensor, lam: Tensor) => add(mean(softplus(mul(mul(matmul(X, w), y), -1))), mul(sum(mul(exp(lam), square(reshape(w, [d])))), 0.5));
  const gamma = 0.5;
  const problem: BilevelProblem<Tensor, Tensor> = {
    T,
    gamma,
    inner,
    init: () => full([d, 1], 0),
    step: gradientDescent(inner, gamma),
    outer: (w) => mean(softplus(mul(mul(matmul(Xv, w), yv), -1))),
  };
  const lambda = tensor([0.1, -0.3, 0.2, 0.0]);
  return { problem, lambda, dispose: () => dispose([X, y, Xv, yv, lambda]) };
}

s('neumann with K terms at a converged w_T equals krmd with the same K (Prop. 3.6)', async () => {
  const { problem, lambda, dispose: done } = logisticProblem(200);
  for (const K of [1, 3, 10]) {
    const a = await hypergradient(problem, lambda, { method: 'neumann', K });
    const b = await hypergradient(problem, lambda, { method: 'krmd', K });
    assertClose(await values(a.grad), await values(b.grad), { rtol: 1e-3, atol: 1e-6 }, `neumann vs krmd, K=${K}`);
    dispose([a.grad, b.grad]);
  }
  done();
});

s('cg converges to the implicit gradient of a strongly convex quadratic', async () => {
  // g = 1/2 w^T A w - w^T (B lambda), f = 1/2 ||w - c||^2: w* = A^-1 B lambda, d f = B^T A^-1 (w* - c).
  const A = [[2, 0.3, 0, 0.1], [0.3, 1.5, 0.2, 0], [0, 0.2, 1.8, 0.4], [0.1, 0, 0.4, 1.2]];
  const B = [[1, 0], [0, 1], [1, 1], [0.5, -1]];
  const c = [0.2, -0.1, 0.4, 0.3];
  const lam = [0.7, -0.4];
  const At = tensor(A);
  const Bt = tensor(B);
  const ct = tensor(c, [4, 1]);
  const inner = (w: Tensor, l: Tensor) => sub(mul(sum(mul(w, matmul(At, w))), 0.5), sum(mul(w, matmul(Bt, reshape(l, [2, 1])))));
  const gamma = 0.4;
  const problem: BilevelProblem<Tensor, Tensor> = {
    T: 200, gamma, inner,
    init: () => full([4, 1], 0),
    step: gradientDescent(inner, gamma),
    outer: (w) => mul(sum(square(sub(w, ct))), 0.5),
  };
  // float64 reference: solve A w = B lam, then A q = w - c, d f = B^T q.
  const solve = (M: number[][], b: number[]) => {
    const n = b.length;
    const a = M.map((r, i) => [...r, b[i]!]);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const f = a[j]![i]! / a[i]![i]!;
        for (let k = i; k <= n; k++) a[j]![k]! -= f * a[i]![k]!;
      }
    }
    const x = new Array<number>(n).fill(0);
    for (let i = n - 1; i >= 0; i--) x[i] = (a[i]![n]! - a[i]!.slice(i + 1, n).reduce((acc, v, k) => acc + v * x[i + 1 + k]!, 0)) / a[i]![i]!;
    return x;
  };
  const wStar = solve(A, B.map((r) => r[0]! * lam[0]! + r[1]! * lam[1]!));
  const q = solve(A, wStar.map((w, i) => w - c[i]!));
  const expected = [0, 1].map((j) => B.reduce((acc, r, i) => acc + r[j]! * q[i]!, 0));
  const lambda = tensor(lam);
  const r = await hypergradient(problem, lambda, { method: 'cg', K: 4 });
  assertClose(await values(r.grad), expected, { rtol: 1e-3, atol: 1e-5 }, 'cg (K = dim)');
  const few = await hypergradient(problem, lambda, { method: 'cg', K: 1 });
  const err1 = Math.hypot(...(await values(few.grad)).map((v, i) => v - expected[i]!));
  const err4 = Math.hypot(...(await values(r.grad)).map((v, i) => v - expected[i]!));
  assert.ok(err4 < err1, `more CG iterations converge (${err4} < ${err1})`);
  dispose([r.grad, few.grad, lambda, At, Bt, ct]);
});

/** A least-squares inner problem big enough that one iterate is many buffers' worth. */
function memoryProblem(T: number) {
  const n = 64;
  const d = 256;
  const X = tensor(randArray(n * d, 21, -0.1, 0.1), [n, d]);
  const y = tensor(randArray(n, 22), [n, 1]);
  const inner = (w: Tensor, lam: Tensor) => add(mean(square(sub(matmul(X, w), y))), mul(sum(square(w)), mul(exp(lam), 0.5)));
  const problem: BilevelProblem<Tensor, Tensor> = {
    T,
    init: () => full([d, 1], 0),
    step: gradientDescent(inner, 0.05),
    outer: (w) => mean(square(sub(matmul(X, w), y))),
  };
  return { problem, dispose: () => dispose([X, y]) };
}

s('memory: krmd does not grow with T, rmd grows linearly, checkpoint about as sqrt T', async () => {
  // The texture copy CPU adapters make of X (read by every step) is a constant the size of X
  // that would blur the growth measured here: off for this test.
  const textures = setMatmulTextures(false);
  const lambda = tensor([-1]);
  const peak = async (T: number, opts: Parameters<typeof hypergradient>[2]) => {
    const { problem, dispose: done } = memoryProblem(T);
    resetPeak();
    const r = await hypergradient(problem, lambda, opts);
    dispose(r.grad);
    done();
    return r.stats.peakBytes;
  };
  const rows: Record<string, [number, number]> = {};
  for (const [name, opts] of [
    ['krmd K=5', { method: 'krmd', K: 5 }],
    ['rmd', { method: 'rmd' }],
    ['checkpoint', { method: 'checkpoint' }],
  ] as const) {
    rows[name] = [await peak(50, opts), await peak(400, opts)];
  }
  console.log('  peak bytes at T = 50 and T = 400:', JSON.stringify(rows));
  const [k50, k400] = rows['krmd K=5']!;
  const [r50, r400] = rows['rmd']!;
  const [c50, c400] = rows['checkpoint']!;
  assert.ok(Math.abs(k400 - k50) <= 0.05 * k50, `krmd peak does not grow with T: ${k50} -> ${k400}`);
  // 8x the steps: linear growth gives ~8x (minus the constant part); sqrt growth ~2.8x.
  assert.ok(r400 / r50 > 5, `rmd peak grows about linearly: ${r50} -> ${r400}`);
  assert.ok(c400 / c50 > 1.5 && c400 / c50 < 4.5, `checkpoint peak grows about as sqrt T: ${c50} -> ${c400}`);
  setMatmulTextures(textures);
  assert.ok(c400 < 0.3 * r400, `checkpoint keeps far less than rmd at T = 400 (${c400} vs ${r400})`);
  lambda.dispose();
});

s('no leak across many hypergradients', async () => {
  const p = toyProblem();
  const lambda = tensor([1, 1]);
  const warm = await hypergradient(p, lambda, { method: 'krmd', K: 3 });
  dispose(warm.grad);
  const before = memory();
  for (const method of ['rmd', 'krmd', 'checkpoint', 'fmd', 'cg', 'neumann'] as const) {
    for (let i = 0; i < 3; i++) {
      const r = await hypergradient({ ...p, T: 20 }, lambda, { method, K: 4 });
      dispose(r.grad);
    }
  }
  const after = memory();
  assert.is(after.liveBuffers, before.liveBuffers, 'live buffers');
  assert.is(after.liveBytes, before.liveBytes, 'live bytes');
  dispose(lambda);
  p.dispose();
});

s('bad input is rejected before any GPU work, with what was wrong', async () => {
  const p = toyProblem();
  const lambda = tensor([1, 1]);
  const before = memory().dispatches;
  const rejects = async (fn: () => Promise<unknown>, pattern: RegExp) => {
    try {
      await fn();
    } catch (e) {
      assert.match((e as Error).message, pattern);
      return;
    }
    assert.unreachable(`expected an error matching ${pattern}`);
  };
  await rejects(() => hypergradient(p, lambda, { method: 'krmd', K: 0 }), /1 <= K <= T = 100, got K = 0/);
  await rejects(() => hypergradient(p, lambda, { method: 'krmd', K: 101 }), /1 <= K <= T = 100, got K = 101/);
  await rejects(() => hypergradient({ ...p, T: 0 }, lambda, { method: 'rmd' }), /T must be an integer >= 1, got 0/);
  const wrong = tensor([1, 2, 3]);
  await rejects(() => hypergradient(p, wrong, { method: 'rmd' }), /shapes \[3\].*uses \[2\]/);
  await rejects(() => hypergradient(p, lambda, { method: 'magic' as 'rmd' }), /unknown method 'magic'/);
  assert.is(memory().dispatches, before, 'no GPU work for rejected input');
  // An inner loss that is not a scalar is caught at its first evaluation.
  const bad: BilevelProblem<Tensor, Tensor> = { ...p, step: gradientDescent((w, l) => square(sub(w, l)), 0.1) };
  await rejects(() => hypergradient(bad, lambda, { method: 'krmd', K: 2 }), /inner loss g\(w, lambda\) must return a scalar/);
  // A diverging inner loop names the step where it went non-finite.
  const diverging: BilevelProblem<Tensor, Tensor> = { ...p, step: gradientDescent(p.inner!, 50) };
  await rejects(() => hypergradient(diverging, lambda, { method: 'rmd' }), /first went non-finite at step t = \d+/);
  // A projection that changes shapes.
  const sgd = new SGD<Tensor>({ eta0: 0.1, project: (l) => reshape(l, [1, 2]) });
  const g = tensor([1, 1]);
  assert.throws(() => sgd.step(lambda, g), /projection changed the shapes of lambda: expected tensors of shapes \[2\], got \[1, 2\]/);
  dispose([lambda, wrong, g]);
  p.dispose();
});

s('outer optimizers: SGD with eta_0 / sqrt(tau), Adam, projection', async () => {
  const sgd = new SGD<Tensor>({ eta0: 0.5 });
  let l = tensor([1, -1]);
  const g = tensor([2, 4]);
  for (let tau = 1; tau <= 3; tau++) {
    const prev = await values(l);
    const next = sgd.step(l, g);
    assertClose(await values(next), prev.map((v, i) => v - (0.5 / Math.sqrt(tau)) * [2, 4][i]!), { rtol: 1e-6 });
    l.dispose();
    l = next;
  }
  const nonneg = new SGD<Tensor>({ eta0: 1, schedule: 'constant', project: (x) => maximum(x, 0) });
  const p = nonneg.step(tensor([0.5, 0.5]), g);
  assert.equal(await values(p), [0, 0], 'projection onto the non-negative orthant');
  const adam = new Adam<Tensor>({ lr: 0.1 });
  const a1 = adam.step(l, g);
  // The first Adam step moves every coordinate by lr (bias-corrected m / sqrt(v) = sign(g)).
  assertClose(await values(a1), (await values(l)).map((v) => v - 0.1), { rtol: 1e-5 });
  adam.dispose();
  dispose([l, g, p, a1]);
});

s('diagnostics on the toy: descent ratio, cosine, relative error, Prop. 3.1 bound', async () => {
  const p = toyProblem();
  const lambda = tensor([1, 1]);
  const exact = await hypergradient(p, lambda, { method: 'rmd' });
  const gradW = toyGradF(toyWHat([1, 1]));
  const gradWNorm = Math.hypot(...gradW);
  for (const K of [1, 5, 20]) {
    const h = await hypergradient(p, lambda, { method: 'krmd', K });
    const err = relativeError(h.grad, exact.grad);
    const ratio = await descentRatio(h.grad, exact.grad);
    const cos = await cosineSimilarity(h.grad, exact.grad);
    const absErr = (await err) * Math.hypot(...(await values(exact.grad)));
    const bound = prop31Bound({ gamma: TOY.gamma, alpha: TOY.alpha, K, gradWNorm, MB: TOY.gamma });
    assert.ok(absErr <= bound, `K=${K}: error ${absErr} within the bound ${bound}`);
    assert.ok(ratio > 0 && cos > 0, `K=${K}: a descent direction (ratio ${ratio}, cos ${cos})`);
    dispose(h.grad);
  }
  dispose([exact.grad, lambda]);
  p.dispose();
});

s.run();
