// hypergradient() under misuse (issue 13, items 4, 9, 10): overlapping calls report their own
// statistics, a step or objective that throws leaks no GPU memory whatever the method, and bad
// arguments or a step that returns the wrong thing get a message naming what was wrong.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  tensor, add, mul, sub, sum, square, dispose, memory, hypergradient, gradientDescent, heavyBall,
  type BilevelProblem, type Tensor, type Method,
} from '../src/node.js';
import { setup, throwsWith, values } from './helpers.js';

const s = suite('hypergradient-calls');
s.before(setup);

const G = [1, 0.5, 2];

let g: Tensor;
s.before(() => {
  g = tensor(G);
});

/** A small quadratic problem: g = 1/2 sum G (w - lambda)^2, f = sum w^2; `fail` makes a function throw. */
function problem(T: number, fail?: { at: 'init' | 'step' | 'outer' | 'inner'; t?: number }): BilevelProblem<Tensor, Tensor> {
  const boom = (where: string) => {
    throw new Error(`test: ${where} failed on purpose`);
  };
  const inner = (w: Tensor, l: Tensor) => (fail?.at === 'inner' ? boom('inner') : mul(sum(mul(g, square(sub(w, l)))), 0.5));
  const step = gradientDescent(inner, 0.1);
  return {
    T,
    gamma: 0.1,
    init: (l) => (fail?.at === 'init' ? boom('init') : mul(l, 0)),
    step: (w, l, t) => (fail?.at === 'step' && t === fail.t ? boom(`step ${t}`) : step(w, l, t)),
    outer: (w) => (fail?.at === 'outer' ? boom('outer') : sum(square(w))),
    inner,
  };
}

s('overlapping calls (Promise.all) report the same stats as calls made one at a time', async () => {
  const p = problem(20);
  const lam = tensor([1, -1, 0.5]);
  const alone = await hypergradient(p, lam, { method: 'krmd', K: 5 });
  const both = await Promise.all([
    hypergradient(p, lam, { method: 'krmd', K: 5 }),
    hypergradient(p, lam, { method: 'rmd' }),
    hypergradient(p, lam, { method: 'krmd', K: 5 }),
  ]);
  const rmd = await hypergradient(p, lam, { method: 'rmd' });
  for (const [r, ref, what] of [[both[0], alone, 'first krmd'], [both[1], rmd, 'rmd'], [both[2], alone, 'second krmd']] as const) {
    assert.is(r.stats.readbacks, 1, `${what}: one readback`);
    assert.is(r.stats.dispatches, ref.stats.dispatches, `${what}: dispatches`);
    assert.is(r.stats.peakBytes, ref.stats.peakBytes, `${what}: peak bytes`);
    assert.is(r.stats.hvps, ref.stats.hvps, `${what}: hvps`);
    assert.equal(await values(r.grad), await values(ref.grad), `${what}: the gradient`);
  }
  dispose([alone.grad, rmd.grad, both.map((r) => r.grad), lam]);
});

s('a throwing step, Xi_0, f or g leaks no GPU memory, in every method', async () => {
  const lam = tensor([1, -1, 0.5]);
  const live = memory().liveBytes;
  const T = 6;
  const cases: [Method, number | undefined, Parameters<typeof problem>[1]][] = [];
  for (const [method, K] of [['rmd', undefined], ['krmd', 2], ['checkpoint', undefined], ['checkpoint', 4], ['fmd', undefined], ['cg', 3], ['neumann', 3]] as const) {
    for (const t of [0, 3, T - 1]) cases.push([method, K, { at: 'step', t }]);
    cases.push([method, K, { at: 'init' }], [method, K, { at: 'outer' }]);
  }
  cases.push(['cg', 3, { at: 'inner' }], ['neumann', 3, { at: 'inner' }]);
  for (const [method, K, fail] of cases) {
    const what = `${method}${K ? ` K = ${K}` : ''}, ${fail!.at}${fail!.t !== undefined ? ` t = ${fail!.t}` : ''}`;
    await throwsWith(() => hypergradient(problem(T, fail), lam, { method, K }), ['failed on purpose']);
    assert.is(memory().liveBytes, live, `${what}: live bytes after the error`);
  }
  dispose(lam);
});

s('bad arguments and wrong return values are named', async () => {
  const p = problem(3);
  const lam = tensor([1, -1, 0.5]);
  // @ts-expect-error: options left out, as a JavaScript caller might
  await throwsWith(() => hypergradient(p, lam), ['options is undefined', "method: 'krmd'"]);
  await throwsWith(() => hypergradient(p, lam, { method: 'bogus' as Method }), ['unknown method', "'bogus'", 'krmd']);
  await throwsWith(() => hypergradient({ ...p, step: undefined as never }, lam, { method: 'rmd' }), ['problem.step must be a function', 'undefined']);
  await throwsWith(() => hypergradient(p, 3 as never, { method: 'rmd' }), ['lambda is a number (3)']);
  await throwsWith(() => hypergradient(p, { a: lam, b: 'x' } as never, { method: 'rmd' }), ['lambda holds a string (x) at .b']);
  for (const method of ['rmd', 'krmd', 'fmd', 'cg'] as const) {
    const K = method === 'krmd' || method === 'cg' ? 2 : undefined;
    await throwsWith(() => hypergradient({ ...p, step: () => 3 as never }, lam, { method, K }), ['problem.step', 't = 0', 'a number (3)', 'inner state']);
    await throwsWith(() => hypergradient({ ...p, step: () => undefined as never }, lam, { method, K }), ['problem.step', 'undefined']);
    await throwsWith(() => hypergradient({ ...p, step: (w) => [w, w] as never }, lam, { method, K }), ['problem.step', '2 tensor(s)', 'given 1']);
    await throwsWith(() => hypergradient({ ...p, init: () => null as never }, lam, { method, K }), ['problem.init', 'null']);
    await throwsWith(() => hypergradient({ ...p, outer: () => 1 as never }, lam, { method, K }), ['problem.outer', 'one-element tensor', 'a number (1)']);
    await throwsWith(() => hypergradient({ ...p, outer: (w) => w }, lam, { method, K }), ['problem.outer', 'one-element tensor', '[3]']);
  }
  await throwsWith(() => gradientDescent(undefined as never, 0.1), ['gradientDescent', 'inner loss', 'undefined']);
  await throwsWith(() => gradientDescent((w: Tensor) => sum(w), '0.1' as never), ['gradientDescent', 'step size', 'string']);
  await throwsWith(() => heavyBall((w: Tensor) => sum(w), undefined as never), ['heavyBall', 'stepSize', 'momentum']);
  await throwsWith(() => heavyBall((w: Tensor) => sum(w), { stepSize: 0.1 } as never), ['heavyBall', 'momentum', 'undefined']);
  dispose(lam);
});

s.run();
