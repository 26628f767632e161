// `hypertape task-interaction`: the problem's math on a tiny instance (the Laplacian identity,
// the closed-form inner gradient against autodiff, the hypergradient in C and rho against float64
// central differences and forward mode, symmetry and positivity of C under outer updates); the
// real command on CIFAR-10 and CIFAR-100 files in the official binary format written here (pixels
// for one, a .npy features file for the other): results.json complete, a killed process resumed
// to the same numbers, and bad input refused by name.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'npyjs';
import { taskInteraction } from '../src/experiments/task-interaction.js';
import { loadTaskState, STATE_FILE } from '../src/experiments/task-interaction-state.js';
import { parseOptions, UsageError } from '../src/experiments/registry.js';
import { runExperiment, type RunOutcome } from '../src/experiments/run.js';
import { createConsole } from '../src/experiments/progress.js';
import { rejectsWith } from './rejects.js';
import type { DeviceExamples } from '../src/experiments/shared/examples.js';
import { hypertape, noCompleteResults, withoutTimings } from './experiment-helpers.js';
import { tensor, oneHot, transpose, tidy, grad, dispose, hypergradient, Adam, type Tensor } from '../src/node.js';
import {
  interactionMatrix, interactionPenalty, symmetrizeTheta, innerGradient, innerObjective, taskInteractionProblem, type TaskLambda,
} from '../src/experiments/task-interaction-problem.js';
import { setup, randArray, assertClose, values } from './helpers.js';

const s = suite('task-interaction');
s.before(setup);

// ---- a tiny instance: V = 3 classes, 4 features + bias, T = 6 --------------------------------

const V = 3;
const D = 5;
const T = 6;
const GAMMA = 0.5;

interface CpuSet { n: number; x: Float64Array; labels: number[] }

function cpuSet(n: number, seed: number): CpuSet {
  const r = randArray(n * D, seed, -1.5, 1.5);
  for (let i = 0; i < n; i++) r[i * D + D - 1] = 1;
  const labels = Array.from(randArray(n, seed + 100, 0, V), (v) => Math.floor(v));
  return { n, x: r, labels };
}

function device(set: CpuSet): DeviceExamples {
  const labels = Uint8Array.from(set.labels);
  const yT = tidy(() => transpose(oneHot(tensor(Int32Array.from(labels), [set.n], 'i32'), V)));
  return { n: set.n, x: tensor(Float32Array.from(set.x), [set.n, D]), yT, labels };
}

/** C = exp((theta + theta^T) / 2) in float64. */
function cpuC(theta: ArrayLike<number>): Float64Array {
  const C = new Float64Array(V * V);
  for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) C[i * V + j] = Math.exp((theta[i * V + j]! + theta[j * V + i]!) / 2);
  return C;
}

/** sum_ij C_ij ||w_i - w_j||^2 as the double sum. */
function cpuPenalty(W: ArrayLike<number>, C: ArrayLike<number>, dim = D): number {
  let total = 0;
  for (let i = 0; i < V; i++) {
    for (let j = 0; j < V; j++) {
      let d2 = 0;
      for (let k = 0; k < dim; k++) d2 += (W[i * dim + k]! - W[j * dim + k]!) ** 2;
      total += C[i * V + j]! * d2;
    }
  }
  return total;
}

/** Mean cross-entropy of W [V, D] on a set, float64. */
function cpuLoss(W: Float64Array, set: CpuSet): number {
  let loss = 0;
  for (let i = 0; i < set.n; i++) {
    const z = Array.from({ length: V }, (_, c) => {
      let a = 0;
      for (let k = 0; k < D; k++) a += W[c * D + k]! * set.x[i * D + k]!;
      return a;
    });
    const m = Math.max(...z);
    loss += m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0)) - z[set.labels[i]!]!;
  }
  return loss / set.n;
}

/** f(theta, logRho): T GD steps on g from W = 0, in float64, then the validation loss. */
function cpuF(theta: ArrayLike<number>, logRho: number, train: CpuSet, val: CpuSet): number {
  const C = cpuC(theta);
  const rho = Math.exp(logRho);
  const W = new Float64Array(V * D);
  for (let t = 0; t < T; t++) {
    const G = new Float64Array(V * D);
    for (let i = 0; i < train.n; i++) {
      const z = Array.from({ length: V }, (_, c) => {
        let a = 0;
        for (let k = 0; k < D; k++) a += W[c * D + k]! * train.x[i * D + k]!;
        return a;
      });
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const tot = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < V; c++) {
        const r = (e[c]! / tot - (train.labels[i] === c ? 1 : 0)) / train.n;
        for (let k = 0; k < D; k++) G[c * D + k] += r * train.x[i * D + k]!;
      }
    }
    // d/dw_i of sum_ab C_ab ||w_a - w_b||^2 = 2 sum_j (C_ij + C_ji) (w_i - w_j).
    for (let i = 0; i < V; i++) {
      for (let j = 0; j < V; j++) {
        for (let k = 0; k < D; k++) G[i * D + k] += 2 * (C[i * V + j]! + C[j * V + i]!) * (W[i * D + k]! - W[j * D + k]!);
      }
    }
    for (let k = 0; k < W.length; k++) W[k] -= GAMMA * (G[k]! + 2 * rho * W[k]!);
  }
  return cpuLoss(W, val);
}

const trainSet = cpuSet(12, 1);
const valSet = cpuSet(9, 2);
// A symmetric theta (as the experiment keeps it) and one that is not: C symmetrises either.
const theta0 = (() => {
  const r = randArray(V * V, 3, -2.5, -0.5);
  for (let i = 0; i < V; i++) for (let j = 0; j < i; j++) r[i * V + j] = r[j * V + i]!;
  return r;
})();
const logRho0 = Math.log(0.05);

function lambdaOf(theta: ArrayLike<number>, logRho: number): TaskLambda {
  return { theta: tensor(Float32Array.from(theta), [V, V]), logRho: tensor(new Float32Array([logRho]), []) };
}

s('the Laplacian identity: 2 sum(W * (L W)) equals the double sum of C_ij ||w_i - w_j||^2', async () => {
  const w = randArray(V * 7, 4, -2, 2);
  const C = cpuC(randArray(V * V, 5, -1, 1));
  const Wt = tensor(Float32Array.from(w), [V, 7]);
  const Ct = tensor(Float32Array.from(C), [V, V]);
  const p = interactionPenalty(Wt, Ct);
  assertClose([await p.item()], [cpuPenalty(w, C, 7)], { rtol: 1e-5 }, 'penalty');
  dispose([Wt, Ct, p]);
});

s('C = exp((theta + theta^T) / 2) is symmetric and positive for any theta', async () => {
  const th = tensor(Float32Array.from(randArray(V * V, 6, -30, 3)), [V, V]);
  const C = await values(interactionMatrix(th));
  for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) {
    assert.is(C[i * V + j], C[j * V + i], `C[${i},${j}] = C[${j},${i}]`);
    assert.ok(C[i * V + j]! >= 0);
  }
  assertClose(C, cpuC(await values(th)), { rtol: 1e-5, atol: 0 }, 'C');
  th.dispose();
});

s('the closed-form inner gradient equals autodiff of g, with and without C', async () => {
  const train = device(trainSet);
  const W = tensor(Float32Array.from(randArray(V * D, 7, -0.5, 0.5)), [V, D]);
  const C = interactionMatrix(tensor(Float32Array.from(randArray(V * V, 8, -2, 0)), [V, V]));
  for (const c of [C, null]) {
    const closed = innerGradient(W, c, 0.03, train);
    const auto = grad((w: Tensor) => innerObjective(w, c, 0.03, train))(W);
    assertClose(await values(closed), await values(auto), { rtol: 1e-4, atol: 1e-6 }, `grad_W g (${c ? 'with' : 'without'} C)`);
    dispose([closed, auto]);
  }
  dispose([W, C, train.x, train.yT]);
});

s('the hypergradient in theta and log rho: rmd = fmd = float64 central differences', async () => {
  const train = device(trainSet);
  const val = device(valSet);
  const problem = taskInteractionProblem(train, val, { T, gamma: GAMMA });
  const lambda = lambdaOf(theta0, logRho0);
  const rmd = await hypergradient(problem, lambda, { method: 'rmd' });
  const fmd = await hypergradient(problem, lambda, { method: 'fmd' });
  assertClose([rmd.value], [cpuF(theta0, logRho0, trainSet, valSet)], { rtol: 1e-5 }, 'f');
  const gTheta = await values(rmd.grad.theta);
  const gRho = await values(rmd.grad.logRho);
  assertClose(await values(fmd.grad.theta), gTheta, { rtol: 1e-3, atol: 1e-7 }, 'fmd vs rmd (theta)');
  assertClose(await values(fmd.grad.logRho), gRho, { rtol: 1e-3, atol: 1e-7 }, 'fmd vs rmd (log rho)');
  // Central differences of the float64 f with Richardson extrapolation (O(h^4)).
  const fd = (fn: (h: number) => number, h: number) => {
    const d = (k: number) => (fn(k) - fn(-k)) / (2 * k);
    return (4 * d(h / 2) - d(h)) / 3;
  };
  const expected = [];
  for (let e = 0; e < V * V; e++) {
    expected.push(fd((h) => cpuF(theta0.map((v, i) => (i === e ? v + h : v)), logRho0, trainSet, valSet), 1e-3));
  }
  assertClose(gTheta, expected, { rtol: 2e-3, atol: 2e-8 }, 'd f / d theta');
  assertClose(gRho, [fd((h) => cpuF(theta0, logRho0 + h, trainSet, valSet), 1e-3)], { rtol: 2e-3, atol: 1e-8 }, 'd f / d log rho');
  // C_ii never enters g: its theta gradient vanishes.
  for (let i = 0; i < V; i++) assert.ok(Math.abs(gTheta[i * V + i]!) < 1e-9, `d f / d theta_${i}${i} = ${gTheta[i * V + i]}`);
  dispose([rmd.grad.theta, rmd.grad.logRho, fmd.grad.theta, fmd.grad.logRho, lambda.theta, lambda.logRho, train.x, train.yT, val.x, val.yT]);
});

s('outer updates keep theta (hence C) exactly symmetric, C positive and rho positive', async () => {
  const train = device(trainSet);
  const val = device(valSet);
  const problem = taskInteractionProblem(train, val, { T, gamma: GAMMA });
  let lambda = lambdaOf(theta0, logRho0);
  const adam = new Adam<TaskLambda>({ lr: 0.3, project: symmetrizeTheta });
  for (const K of [1, 3, T]) {
    const h = await hypergradient(problem, lambda, K === T ? { method: 'rmd' } : { method: 'krmd', K });
    const g = await values(h.grad.theta);
    // Symmetric up to the order in which the tape sums the paths through theta and theta^T.
    for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) assertClose([g[i * V + j]!], [g[j * V + i]!], { rtol: 1e-5, atol: 1e-9 }, `K = ${K}: the theta gradient is symmetric`);
    const next = adam.step(lambda, h.grad);
    dispose([lambda.theta, lambda.logRho, h.grad.theta, h.grad.logRho]);
    lambda = next;
    const th = await values(lambda.theta);
    for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) assert.is(th[i * V + j], th[j * V + i], `theta symmetric after step K = ${K}`);
    const C = interactionMatrix(lambda.theta);
    const c = await values(C);
    C.dispose();
    assert.ok(c.every((v, e) => v > 0 && v === c[(e % V) * V + Math.floor(e / V)]), 'C symmetric and positive');
    assert.ok(Math.exp((await values(lambda.logRho))[0]!) > 0);
    // Adam moved theta off its start.
    assert.not.equal(th, Array.from(Float32Array.from(theta0)));
  }
  adam.dispose();
  dispose([lambda.theta, lambda.logRho, train.x, train.yT, val.x, val.yT]);
});

s('Adam saved and restored continues exactly where it was', async () => {
  const lambda = lambdaOf(theta0, logRho0);
  const g = lambdaOf(randArray(V * V, 21, -1, 1), 0.3);
  const a = new Adam<TaskLambda>({ lr: 0.1, project: symmetrizeTheta });
  let x = a.step(lambda, g);
  const saved = await a.save();
  assert.is(saved.tau, 1);
  const b = new Adam<TaskLambda>({ lr: 0.1, project: symmetrizeTheta });
  b.restore(JSON.parse(JSON.stringify(saved)), x);
  const xa = a.step(x, g);
  const xb = b.step(x, g);
  assert.equal(await values(xa.theta), await values(xb.theta));
  assert.equal(await values(xa.logRho), await values(xb.logRho));
  await rejectsWith(() => b.restore({ tau: 1, m: [[1, 2]], v: null }, x), 'Adam.restore', 'sizes 2');
  a.dispose();
  b.dispose();
  dispose([lambda.theta, lambda.logRho, g.theta, g.logRho, x.theta, x.logRho, xa.theta, xa.logRho, xb.theta, xb.logRho]);
});

// ---- the command end to end -------------------------------------------------------------------

const PIXELS = 3072;
let root = '';
let dir10 = '';
let dir100 = '';
let features100 = '';
const quiet = { console: createConsole({ quiet: true }) };

/** Records of the official binary format: label byte(s), then 3,072 pixels carrying a class-dependent pattern plus noise. */
function records(labels: number[][], seed: number): Uint8Array {
  const r = randArray(labels.length * PIXELS, seed, 0, 1);
  const rec = labels[0]!.length + PIXELS;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((ls, i) => {
    out.set(ls, i * rec);
    const c = ls[ls.length - 1]!;
    for (let j = 0; j < PIXELS; j++) out[i * rec + ls.length + j] = Math.floor(((c * 37 + (j % 97) * (c + 3)) % 160) + 95 * r[i * PIXELS + j]!);
  });
  return out;
}

s.before(() => {
  root = mkdtempSync(join(tmpdir(), 'hypertape-ti-'));
  // CIFAR-10: five training batches of 14 records (7 per class in all), a test batch of 40.
  dir10 = join(root, 'cifar-10-batches-bin');
  mkdirSync(dir10);
  for (let b = 1; b <= 5; b++) writeFileSync(join(dir10, `data_batch_${b}.bin`), records(Array.from({ length: 14 }, (_, i) => [((b - 1) * 14 + i) % 10]), b));
  writeFileSync(join(dir10, 'test_batch.bin'), records(Array.from({ length: 40 }, (_, i) => [i % 10]), 9));
  // CIFAR-100: coarse and fine label bytes; 2 training images per fine class, 100 test images.
  dir100 = join(root, 'cifar-100-binary');
  mkdirSync(dir100);
  writeFileSync(join(dir100, 'train.bin'), records(Array.from({ length: 200 }, (_, i) => [(i % 100) % 20, i % 100]), 11));
  writeFileSync(join(dir100, 'test.bin'), records(Array.from({ length: 100 }, (_, i) => [i % 20, i]), 12));
  // Its features: [300, 6] float32, rows = training images then test images; a class signal in column 0..2.
  const f = Float32Array.from(randArray(300 * 6, 13, -1, 1));
  for (let i = 0; i < 300; i++) {
    const c = i < 200 ? i % 100 : i - 200;
    f[i * 6] += c / 50;
    f[i * 6 + 1] += Math.sin(c);
    f[i * 6 + 2] += Math.cos(c);
  }
  features100 = join(root, 'features100.npy');
  writeFileSync(features100, new Uint8Array(dump(f, [300, 6])));
});
s.after(() => rmSync(root, { recursive: true, force: true }));

const tiny = () => ['--dataset', 'cifar10,cifar100', '--data-dir', `${dir10},${dir100}`, '--features', `,${features100}`,
  '--train-per-class', '1', '--val-per-class', '1', '--T', '6', '--K', '1,3,6', '--trials', '2', '--hyper-iterations', '5',
  '--patience', '3', '--exact-every', '2', '--checkpoint-every', '2', '--seed', '3'];
const TABLE_KEYS = ['K', 'testAccMean', 'testAccStd', 'hyperIters', 'secPerHyperiter', 'peakBytes'];

let whole: { dir: string; outcome: RunOutcome } | null = null;

s('a tiny run of both data sets end to end: results.json has every key of Table 3 and Figure 6', async () => {
  const dir = join(root, 'whole');
  const outcome = await runExperiment(taskInteraction, parseOptions(taskInteraction, [...tiny(), '--out', dir]), quiet);
  whole = { dir, outcome };
  for (const p of outcome.paths) assert.ok(existsSync(p), `${p} was written`);
  for (const name of ['figure6-cifar10', 'figure6-cifar100', 'learned-c-cifar10', 'learned-c-cifar100']) {
    const svg = readFileSync(join(dir, `${name}.svg`), 'utf8');
    assert.ok(svg.startsWith('<svg') && svg.includes('</svg>'), `${name}.svg is an SVG document`);
  }
  assert.ok(readFileSync(join(dir, 'summary.md'), 'utf8').includes('## Table 3'));
  const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  assert.is(r.complete, true);
  assert.equal(r.table.map((row: any) => `${row.dataset}/${row.K}`), ['cifar10/1', 'cifar10/3', 'cifar10/6', 'cifar100/1', 'cifar100/3', 'cifar100/6']);
  for (const row of r.table) {
    for (const k of TABLE_KEYS) assert.ok(Number.isFinite(row[k]), `table ${row.dataset} K=${row.K}: ${k} = ${row[k]}`);
    assert.is(row.trials, 2);
    assert.ok(row.testAccMean >= 0 && row.testAccMean <= 1 && row.secPerHyperiter > 0 && row.peakBytes > 0);
    assert.ok(row.hyperIters >= 4 && row.hyperIters <= 5, `hyper-iterations ${row.hyperIters}: at least patience + 1, at most the maximum`);
  }
  assert.ok(r.table[0].peakBytes < r.table[2].peakBytes, 'K-RMD with K = 1 keeps less than full RMD');
  for (const d of ['cifar10', 'cifar100']) assert.ok(Number.isFinite(r.baselineTestAcc[d]), `baselineTestAcc.${d}`);
  // The C = 0 reference's stability check, one entry per trial, in results.json and summary.md.
  for (const b of r.baseline) {
    assert.is(b.stability.gammaL.length, 2);
    assert.is(b.stability.lossIncreases.length, 2);
    for (const x of b.stability.gammaL) assert.ok(x > 0 && Number.isFinite(x));
    assert.is(b.stability.stable, b.stability.gammaL.every((x: number) => x < 2) && b.stability.lossIncreases.every((x: number) => x === 0));
  }
  assert.ok(readFileSync(join(dir, 'summary.md'), 'utf8').includes('Is the C = 0 reference (CIFAR-10) trained stably?'));
  assert.is(r.problem.datasets[1].classes, 100);
  assert.is(r.problem.datasets[1].nTest, 100);
  // Figure 6: every K of trial 0, the exact hypergradient at tau = 0, 2, 4 (while the run lasted).
  assert.is(r.figure6.series.length, 6);
  for (const s6 of r.figure6.series) {
    assert.ok(s6.valLoss.length >= 4);
    assert.equal(s6.exact.map((e: any) => e.tau), [0, 2, 4].filter((t) => t < s6.valLoss.length));
    for (const e of s6.exact) assert.ok(e.norm > 0 && e.cosine >= -1.0001 && e.cosine <= 1.0001);
    if (s6.K === 6) assert.ok(s6.exact.every((e: any) => e.cosine === 1));
  }
  // At tau = 0 every K is at lambda_0: one exact hypergradient, one validation loss.
  const first = r.figure6.series.filter((x: any) => x.dataset === 'cifar10');
  for (const x of first) {
    assertClose([x.exact[0].norm, x.valLoss[0]], [first[0].exact[0].norm, first[0].valLoss[0]], { rtol: 1e-5 }, `K = ${x.K} at lambda_0`);
  }
  // The learned C: symmetric, positive, class names on the axes, blank diagonal.
  for (const c of r.learnedC) {
    const V = c.classNames.length;
    assert.is(c.C.length, V);
    for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) {
      if (i === j) assert.is(c.C[i][j], null);
      else assert.ok(c.C[i][j] > 0 && c.C[i][j] === c.C[j][i]);
    }
  }
  assert.is(r.learnedC[0].classNames[0], 'airplane');
});

s('a killed process (SIGKILL after its first save) resumes to the same numbers', async () => {
  assert.ok(whole, 'the end-to-end test ran first');
  const dir = join(root, 'killed');
  const killed = await hypertape(['task-interaction', ...tiny(), '--out', dir], { dir, signal: 'SIGKILL' });
  assert.is(killed.signal, 'SIGKILL', 'the run was killed before it finished');
  const saved = loadTaskState(dir);
  assert.ok(saved.runs.length < 16 || saved.runs.some((r) => !r.final), 'the saved state is readable and partial');
  assert.ok(noCompleteResults(dir));
  const outcome = await runExperiment(taskInteraction, parseOptions(taskInteraction, [...tiny(), '--resume', dir]), quiet);
  assert.is(outcome.dir, dir);
  const a = whole!.outcome.results as any;
  const b = outcome.results as any;
  assert.equal(withoutTimings(b.table), withoutTimings(a.table));
  assert.equal(b.baseline, a.baseline);
  assert.equal(b.figure6, a.figure6);
  assert.equal(b.learnedC, a.learnedC);
  assert.equal(loadTaskState(dir).runs.map((r) => r.best), loadTaskState(whole!.dir).runs.map((r) => r.best));
});

s('bad input: unknown data set, paths per data set, features of the wrong rows or dtype; no complete results.json', async () => {
  await rejectsWith(() => parseOptions(taskInteraction, ['--dataset', 'cifar1000']), "unknown data set 'cifar1000'");
  let err: unknown = null;
  try { parseOptions(taskInteraction, ['--dataset', 'mnist']); } catch (e) { err = e; }
  assert.ok(err instanceof UsageError);
  await rejectsWith(() => parseOptions(taskInteraction, ['--dataset', 'cifar10,cifar100', '--data-dir', dir10]), '--data-dir gives 1 path(s) for 2 data set(s)');
  const run = (extra: string[], out: string) => runExperiment(taskInteraction, parseOptions(taskInteraction, [
    '--dataset', 'cifar100', '--data-dir', dir100, '--train-per-class', '1', '--val-per-class', '1', '--T', '2', '--K', '1', '--trials', '1',
    '--hyper-iterations', '1', '--out', join(root, out), ...extra]), quiet);
  const rows = join(root, 'rows.npy');
  writeFileSync(rows, new Uint8Array(dump(new Float32Array(299 * 6), [299, 6])));
  await rejectsWith(() => run(['--features', rows], 'bad-rows'), rows, '299 rows of features', 'shape [300, D]');
  const ints = join(root, 'ints.npy');
  writeFileSync(ints, new Uint8Array(dump(new Int32Array(300 * 6), [300, 6])));
  await rejectsWith(() => run(['--features', ints], 'bad-dtype'), ints, "dtype 'i4'", 'float32 or float64');
  await rejectsWith(() => run(['--features', join(root, 'none.npy')], 'no-file'), join(root, 'none.npy'), 'cannot read');
  // A truncated batch: the reader's error, naming the file.
  const broken = join(root, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'train.bin'), readFileSync(join(dir100, 'train.bin')).subarray(0, 3074 * 10 + 5));
  writeFileSync(join(broken, 'test.bin'), readFileSync(join(dir100, 'test.bin')));
  await rejectsWith(() => runExperiment(taskInteraction, parseOptions(taskInteraction, ['--dataset', 'cifar100', '--data-dir', broken, '--out', join(root, 'bad-data')]), quiet), join(broken, 'train.bin'));
  for (const out of ['bad-rows', 'bad-dtype', 'no-file', 'bad-data']) assert.ok(noCompleteResults(join(root, out)), `${out}/results.json must not look complete`);
  // CIFAR-100 without --data-dir: what to download.
  await rejectsWith(() => runExperiment(taskInteraction, parseOptions(taskInteraction, ['--dataset', 'cifar100', '--out', join(root, 'none')]), quiet), 'cifar-100-binary.tar.gz');
});

s.run();
