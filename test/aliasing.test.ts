// One tensor in several argument places (issue 13, item 1). As in JAX: grad and vjp treat every
// place as an input of its own (d/da sum(a * b) at (x, x) is x, not 2x, and the second place
// gets its own x); a tape asked for the same source twice gives the full derivative twice; a
// hypergradient with { a: t, b: t } gives each hyperparameter its own partial derivative.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tape, grad, vjp, tensor, zeros, sum, mul, add, sub, square, dispose, memory, hypergradient, gradientDescent, type BilevelProblem, type Tensor } from '../src/node.js';
import { setup, values, assertClose } from './helpers.js';

const s = suite('aliasing');
s.before(setup);

const X = [3, -1.5, 0.25];
const dot = (a: Tensor, b: Tensor) => sum(mul(a, b));

s('grad with argnums [0, 1] at (x, x): each slot its own partial derivative', async () => {
  const live = memory().liveBytes;
  const x = tensor(X);
  const [ga, gb] = grad(dot, { argnums: [0, 1] })(x, x) as Tensor[];
  assertClose(await values(ga!), X, {}, 'd/da sum(a b) = b = x');
  assertClose(await values(gb!), X, {}, 'd/db sum(a b) = a = x');
  // Only slot 0 differentiated: slot 1 is a constant even though it is the same tensor.
  const g0 = grad(dot)(x, x);
  assertClose(await values(g0), X, {}, 'argnums 0 alone');
  // Twice inside one argument: still two places.
  const [p, q] = grad((xs: Tensor[]) => dot(xs[0]!, square(xs[1]!)))([x, x]) as Tensor[];
  assertClose(await values(p!), X.map((v) => v * v), {}, 'd/dp sum(p q^2) = q^2');
  assertClose(await values(q!), X.map((v) => 2 * v * v), {}, 'd/dq sum(p q^2) = 2 p q');
  dispose([x, ga, gb, g0, p, q]);
  assert.is(memory().liveBytes, live, 'aliases are freed');
});

s('vjp(f, x, x): each primal slot gets its own cotangent', async () => {
  const x = tensor(X);
  const { out, pullback } = vjp(dot, x, x);
  const [ca, cb] = pullback(tensor(2));
  assertClose(await values(ca), X.map((v) => 2 * v));
  assertClose(await values(cb), X.map((v) => 2 * v));
  dispose([x, out, ca, cb]);
});

s('tape.gradient(y, [x, x]) gives the full derivative in both places', async () => {
  const x = tensor(X);
  const tape = new Tape().watch(x);
  const y = tape.run(() => sum(mul(x, x)));
  const [g1, g2] = tape.gradient(y, [x, x]);
  assertClose(await values(g1!), X.map((v) => 2 * v));
  assertClose(await values(g2!), X.map((v) => 2 * v));
  tape.dispose();
  dispose([x, y, g1, g2]);
});

s('an outer tape sees through the aliases (second order)', async () => {
  // h(x) = sum(d/da sum(a * b^2) at (x, x)) = sum(x^2), so dh/dx = 2x.
  const x = tensor(X);
  const tape = new Tape().watch(x);
  const h = tape.run(() => sum(grad((a: Tensor, b: Tensor) => dot(a, square(b)))(x, x)));
  const [dh] = tape.gradient(h, [x]);
  assertClose(await values(dh!), X.map((v) => 2 * v));
  tape.dispose();
  dispose([x, h, dh]);
});

s('hypergradient with { a: t, b: t }: each leaf its own hyperparameter, every method', async () => {
  // w_0 = a, w_1 = w_0 + 0, f = w_1 a + b: df/da = 2a = 6, df/db = 1 at t = 3.
  const problem: BilevelProblem<Tensor, { a: Tensor; b: Tensor }> = {
    T: 1,
    init: (l) => mul(l.a, 1),
    step: (w) => add(w, 0),
    outer: (w, l) => sum(add(mul(w, l.a), l.b)),
  };
  const t = tensor([3]);
  const live = memory().liveBytes;
  for (const method of ['rmd', 'krmd', 'checkpoint', 'fmd'] as const) {
    const r = await hypergradient(problem, { a: t, b: t }, { method, K: 1 });
    assert.equal([...await values(r.grad.a), ...await values(r.grad.b)], [6, 1], method);
    dispose(r.grad);
  }
  assert.is(memory().liveBytes, live);
  // Implicit differentiation too: g = 1/2 ||w - a b||^2 puts w* = a b, f = ||w||^2 + b, so at
  // a = b = t = 3: df/da = 2 a b^2 = 54 and df/db = 2 a^2 b + 1 = 55.
  const inner = (w: Tensor, l: { a: Tensor; b: Tensor }) => mul(sum(square(sub(w, mul(l.a, l.b)))), 0.5);
  const implicitProblem: BilevelProblem<Tensor, { a: Tensor; b: Tensor }> = {
    T: 60, gamma: 0.5, inner, init: () => zeros([1]), step: gradientDescent(inner, 0.5), outer: (w, l) => sum(add(square(w), l.b)),
  };
  for (const [method, K] of [['cg', 3], ['neumann', 40], ['rmd', undefined]] as const) {
    const r = await hypergradient(implicitProblem, { a: t, b: t }, { method, K });
    assertClose([...await values(r.grad.a), ...await values(r.grad.b)], [54, 55], { rtol: 1e-5 }, method);
    dispose(r.grad);
  }
  t.dispose();
});

s.run();
