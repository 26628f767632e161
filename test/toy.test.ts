// `hypertape toy` end to end with a tiny profile: the files it writes, and every number of
// results.json held to the closed forms of docs/methods.md section 2 (computed here in float64).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toy } from '../src/experiments/toy.js';
import { toyOptimum } from '../src/experiments/toy-problem.js';
import { parseOptions } from '../src/experiments/registry.js';
import { runExperiment } from '../src/experiments/run.js';
import { createConsole } from '../src/experiments/progress.js';
import { setup, assertClose } from './helpers.js';

const s = suite('toy experiment');
s.before(setup);

const T = 20;
const gamma = 0.1;
const G = [1, 0.5];
const w0 = [2, 2];

// Closed forms, written out again here so the test does not lean on the code it checks.
const wHat = (l: number[]) => G.map((g, i) => {
  const c = (1 - gamma * g) ** T;
  return c * w0[i]! + (1 - c) * l[i]!;
});
const gradF = (w: number[]) => w.map((x) => 2 * x + 20 * Math.sin(x) * Math.cos(x));
const h = (l: number[], K: number, objective: string) => {
  const df = gradF(wHat(l));
  return G.map((g, i) => (1 - (1 - gamma * g) ** K) * df[i]! + (objective === 'f~' ? 10 * (l[i]! - (i === 0 ? 1 : 0)) : 0));
};
const norm = (v: number[]) => Math.hypot(...v);
const sub = (a: number[], b: number[]) => a.map((x, i) => x - b[i]!);
const dotp = (a: number[], b: number[]) => a.reduce((acc, x, i) => acc + x * b[i]!, 0);

s('runs a tiny profile end to end and agrees with the closed forms', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypertape-toy-'));
  try {
    const argv = ['--T', String(T), '--hyper-iterations', '4', '--K', '2,20', '--ratio-k', '1,5', '--ratio-iterates', '3',
      '--figure1-every', '4', '--grid', '12', '--inner-step', 'autodiff', '--out', dir];
    const outcome = await runExperiment(toy, parseOptions(toy, argv), { console: createConsole({ quiet: true }) });
    for (const p of outcome.paths) assert.ok(existsSync(p), `${p} was written`);
    for (const name of ['figure1-error', 'figure2-ratio', 'figure3-trajectories', 'figure4-distance']) {
      const svg = readFileSync(join(dir, `${name}.svg`), 'utf8');
      assert.ok(svg.startsWith('<svg') && svg.includes('</svg>'), `${name}.svg is an SVG document`);
    }
    assert.ok(readFileSync(join(dir, 'summary.md'), 'utf8').includes('## Figure 1'));
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    assert.is(r.experiment, 'toy');
    assert.is(r.complete, true);
    assert.is(r.settings.T, T);
    assert.ok(typeof r.adapter.description === 'string' && typeof r.version === 'string');

    // Figure 1: ||h_{T-K} - d f|| at (1, 1) and the bound (1 - gamma/2)^K / (gamma/2) ||grad f|| gamma.
    const one = [1, 1];
    assert.equal(r.figure1.K, [1, 5, 9, 13, 17]);
    const exact = h(one, T, 'f');
    const gradWNorm = norm(gradF(wHat(one)));
    assertClose(r.figure1.error, r.figure1.K.map((K: number) => norm(sub(h(one, K, 'f'), exact))), { rtol: 1e-4, atol: 1e-5 }, 'figure1.error');
    assertClose(r.figure1.bound, r.figure1.K.map((K: number) => ((1 - gamma / 2) ** K / (gamma / 2)) * gradWNorm * gamma), { rtol: 1e-4 }, 'figure1.bound');
    r.figure1.error.forEach((e: number, i: number) => assert.ok(e < r.figure1.bound[i], `error below the bound at K = ${r.figure1.K[i]}`));

    // The runs: every SGD step is lambda_{tau+1} = lambda_tau - eta0 / sqrt(tau) h_{T-K}(lambda_tau),
    // with eta0 = 0.6 / ||h_{T-K}(lambda_1)||; K = 1 is run too (Figure 2 needs it).
    assert.equal(r.runs.map((run: any) => `${run.objective}:${run.K}`), ['f:1', 'f:2', 'f:20', 'f~:1', 'f~:2', 'f~:20']);
    for (const run of r.runs) {
      const what = `${run.objective}, K = ${run.K}`;
      assert.is(run.lambdas.length, 5, `${what}: start and 4 iterates`);
      assert.equal(run.lambdas[0], [-1, 1]);
      assert.equal(run.final, run.lambdas[4]);
      const eta0 = 0.6 / norm(h(run.lambdas[0], run.K, run.objective));
      assertClose([run.eta0], [eta0], { rtol: 1e-4 }, `${what}: eta0`);
      for (let tau = 1; tau <= 4; tau++) {
        const l = run.lambdas[tau - 1];
        const expected = sub(l, h(l, run.K, run.objective).map((x) => (x * eta0) / Math.sqrt(tau)));
        assertClose(run.lambdas[tau], expected, { rtol: 1e-4, atol: 1e-5 }, `${what}: lambda_${tau + 1}`);
      }
      assertClose(run.distance, run.lambdas.map((l: number[]) => norm(sub(l, r.optimum[run.objective]))), { rtol: 1e-9, atol: 1e-12 }, `${what}: distance`);
    }

    // The optimum of f puts w_hat at 0; the engine's exact hypergradient vanishes at both optima.
    assertClose(r.optimum.f, G.map((g, i) => {
      const c = (1 - gamma * g) ** T;
      return (-c * w0[i]!) / (1 - c);
    }), { rtol: 1e-12 }, 'optimum of f');
    assertClose(h(r.optimum['f~'], T, 'f~'), [0, 0], { atol: 1e-9 }, 'd f~ at its optimum');
    assert.ok(r.optimumHypergradientNorm.f < 1e-4 && r.optimumHypergradientNorm['f~'] < 1e-4);

    // Figure 2: h_{T-K}^T d f / ||d f||^2 at the first iterates of each K = 1 run.
    for (const panel of r.figure2) {
      const run = r.runs.find((x: any) => x.objective === panel.objective && x.K === 1);
      assert.equal(panel.lambdas, run.lambdas.slice(0, 3));
      for (const K of [1, 5]) {
        const expected = panel.lambdas.map((l: number[]) => {
          const d = h(l, T, panel.objective);
          return dotp(h(l, K, panel.objective), d) / dotp(d, d);
        });
        assertClose(panel.ratio[String(K)], expected, { rtol: 1e-3, atol: 1e-5 }, `figure2 ${panel.objective} K = ${K}`);
      }
    }
    assert.ok(r.figure2[0].ratio['1'].every((x: number) => x > 0), 'for f, 1-RMD is a descent direction (Lemma 3.2)');

    // The experiment's own closed-form check saw every hypergradient and found them close.
    assert.is(r.closedFormCheck.hypergradients, 5 + 1 + 6 * 4 + 2 * 3 * 3 + 2);
    assert.ok(r.closedFormCheck.maxAbsDeviation < 1e-4, `max deviation ${r.closedFormCheck.maxAbsDeviation}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

s('finds the optimum of f~ where its closed-form hypergradient vanishes at the paper\'s T', () => {
  const opt = toyOptimum({ T: 100, gamma: 0.1, objective: 'f~' });
  const c = G.map((g) => (1 - 0.1 * g) ** 100);
  const w = opt.map((x, i) => c[i]! * w0[i]! + (1 - c[i]!) * x);
  const d = w.map((x, i) => (1 - c[i]!) * (2 * x + 10 * Math.sin(2 * x)) + 10 * (opt[i]! - (i === 0 ? 1 : 0)));
  assertClose(d, [0, 0], { atol: 1e-10 }, 'd f~ at the optimum');
  // The minimum, not a saddle or maximum: nearby points are no better.
  const F = (l: number[]) => l.reduce((acc, x, i) => {
    const wi = c[i]! * w0[i]! + (1 - c[i]!) * x;
    return acc + wi * wi + 10 * Math.sin(wi) ** 2 + 5 * (x - (i === 0 ? 1 : 0)) ** 2;
  }, 0);
  for (const [dx, dy] of [[0.05, 0], [-0.05, 0], [0, 0.05], [0, -0.05], [1, 1], [-2, 0.5]]) {
    assert.ok(F([opt[0]! + dx!, opt[1]! + dy!]) > F(opt));
  }
});

s('rejects K larger than T before starting', () => {
  assert.throws(() => parseOptions(toy, ['--T', '10', '--K', '1,20']), /--K values must be at most --T = 10; got 20/);
});

s.run();
