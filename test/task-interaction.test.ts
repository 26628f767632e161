// `hypertape task-interaction`: the problem's math on a tiny instance (the Laplacian identity,
// the closed-form inner gradient against autodiff, the hypergradient in C and rho against float64
// central differences and forward mode, symmetry and positivity of C under outer updates).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, oneHot, transpose, tidy, grad, dispose, hypergradient, Adam, type Tensor } from '../src/node.js';
import {
  interactionMatrix, interactionPenalty, symmetrizeTheta, innerGradient, innerObjective, taskInteractionProblem, type TaskExamples, type TaskLambda,
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

function device(set: CpuSet): TaskExamples {
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

s.run();
