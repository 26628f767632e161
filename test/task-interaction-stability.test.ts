// The stability check of task interaction's C = 0 reference (src/experiments/task-interaction-stability.ts):
// the power iteration against a matrix of known spectrum, the bound L = lambda_max(X^T X / n) / 2 + 2 rho
// against the float64 Hessian of g (by central differences of its gradient) at several W, and the
// trace of g on the GPU: monotone for a step under 2 / L, not for one far above.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, oneHot, transpose, tidy, dispose } from '../src/node.js';
import { largestGramEigenvalue, innerStability } from '../src/experiments/task-interaction-stability.js';
import type { DeviceExamples, Examples } from '../src/experiments/shared/examples.js';
import { setup, randArray, assertClose } from './helpers.js';
import { rejectsWith } from './rejects.js';

const s = suite('task-interaction-stability');
s.before(setup);

/** Orthonormal columns (Gram-Schmidt in float64) of a random rows x cols matrix, column-major. */
function orthonormal(rows: number, cols: number, seed: number): Float64Array[] {
  const r = randArray(rows * cols, seed);
  const q: Float64Array[] = [];
  for (let c = 0; c < cols; c++) {
    const v = Float64Array.from({ length: rows }, (_, i) => r[i * cols + c]!);
    for (const u of q) {
      const d = v.reduce((a, x, i) => a + x * u[i]!, 0);
      for (let i = 0; i < rows; i++) v[i]! -= d * u[i]!;
    }
    const n = Math.hypot(...v);
    q.push(v.map((x) => x / n));
  }
  return q;
}

s('largestGramEigenvalue: lambda_max(X^T X / n) of X = U S V^T is max(S^2) / n', () => {
  const n = 9;
  const d = 5;
  const spectrum = [0.7, 5, 3, 1, 0.5]; // eigenvalues of X^T X / n, the largest not first
  const U = orthonormal(n, d, 11);
  const Vm = orthonormal(d, d, 12);
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      let a = 0;
      for (let k = 0; k < d; k++) a += U[k]![i]! * Math.sqrt(n * spectrum[k]!) * Vm[k]![j]!;
      X[i * d + j] = a;
    }
  }
  // X is float32: compare with the float64 spectrum to float32's rounding.
  assertClose([largestGramEigenvalue(X, n, d)], [5], { rtol: 1e-5 }, 'lambda_max');
  assert.throws(() => largestGramEigenvalue(X, n, d, 2), /did not converge in 2 iterations/);
  assert.throws(() => largestGramEigenvalue(X, n, d + 1), /45 values do not fit 9 rows of 6 features/);
});

// A tiny problem: V = 3 classes, D = 4 features (the last a constant 1), n = 10.
const V = 3;
const D = 4;
const N = 10;
const feats = (() => {
  const r = randArray(N * D, 21, -2, 2);
  for (let i = 0; i < N; i++) r[i * D + D - 1] = 1;
  return r;
})();
const labels = Array.from(randArray(N, 22, 0, V), (v) => Math.floor(v));

/** grad_W of g(W) = mean CE + rho ||W||^2 in float64 (W [V, D] row-major). */
function cpuGradient(W: Float64Array, rho: number): Float64Array {
  const G = new Float64Array(V * D);
  for (let i = 0; i < N; i++) {
    const z = Array.from({ length: V }, (_, c) => {
      let a = 0;
      for (let k = 0; k < D; k++) a += W[c * D + k]! * feats[i * D + k]!;
      return a;
    });
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const tot = e.reduce((a, b) => a + b, 0);
    for (let c = 0; c < V; c++) {
      const r = (e[c]! / tot - (labels[i] === c ? 1 : 0)) / N;
      for (let k = 0; k < D; k++) G[c * D + k]! += r * feats[i * D + k]!;
    }
  }
  for (let k = 0; k < G.length; k++) G[k]! += 2 * rho * W[k]!;
  return G;
}

/** The largest eigenvalue of the float64 Hessian of g at W (central differences of the gradient, then Jacobi-free power iteration on H + shift). */
function hessianLambdaMax(W: Float64Array, rho: number): number {
  const M = V * D;
  const h = 1e-5;
  const H = Array.from({ length: M }, () => new Float64Array(M));
  for (let k = 0; k < M; k++) {
    const up = Float64Array.from(W);
    const down = Float64Array.from(W);
    up[k]! += h;
    down[k]! -= h;
    const gu = cpuGradient(up, rho);
    const gd = cpuGradient(down, rho);
    for (let j = 0; j < M; j++) H[j]![k] = (gu[j]! - gd[j]!) / (2 * h);
  }
  // H is positive semidefinite: power iteration finds its largest eigenvalue.
  let v = new Float64Array(M).fill(1);
  let lambda = 0;
  for (let it = 0; it < 5000; it++) {
    const w = H.map((row) => row.reduce((a, x, j) => a + x * v[j]!, 0));
    const n = Math.hypot(...w);
    lambda = n / Math.hypot(...v);
    v = Float64Array.from(w, (x) => x / n);
  }
  return lambda;
}

s('the bound: the Hessian of g never exceeds L = lambda_max(X^T X / n) / 2 + 2 rho (float64, several W)', () => {
  const rho = 0.03;
  const L = largestGramEigenvalue(Float32Array.from(feats), N, D) / 2 + 2 * rho;
  let largest = 0;
  for (const [seed, scale] of [[31, 0], [32, 0.3], [33, 1], [34, 3]] as const) {
    const W = Float64Array.from(randArray(V * D, seed), (x) => x * scale);
    const lm = hessianLambdaMax(W, rho);
    assert.ok(lm <= L * (1 + 1e-6), `lambda_max(H) = ${lm} at W of scale ${scale} exceeds the bound ${L}`);
    largest = Math.max(largest, lm);
  }
  // The bound is not vacuous: the Hessian comes within a factor 4 of it somewhere.
  assert.ok(largest > L / 4, `largest Hessian eigenvalue ${largest} against the bound ${L}`);
});

function deviceSet(): { dev: DeviceExamples; cpu: Examples } {
  const lab = Uint8Array.from(labels);
  const x = Float32Array.from(feats);
  const yT = tidy(() => transpose(oneHot(tensor(Int32Array.from(lab), [N], 'i32'), V)));
  return { dev: { n: N, x: tensor(x, [N, D]), yT, labels: lab }, cpu: { n: N, features: x, labels: lab, nFeatures: D, nClasses: V } };
}

s('innerStability: g decreases at every step under 2 / L and the check says so; far above 2 / L it does not', async () => {
  const { dev, cpu } = deviceSet();
  try {
    const rho = 0.01;
    const L = largestGramEigenvalue(cpu.features, N, D) / 2 + 2 * rho;
    const stable = await innerStability(dev, cpu, rho, { T: 20, gamma: 1.5 / L });
    assertClose([stable.gammaL], [1.5], { rtol: 1e-6 }, 'gamma L');
    assertClose([stable.lossStart], [Math.log(V)], { rtol: 1e-6 }, 'g(W_0) = log V at W_0 = 0');
    assert.is(stable.lossIncreases, 0);
    assert.ok(stable.lossEnd < stable.lossStart);
    const unstable = await innerStability(dev, cpu, rho, { T: 20, gamma: 60 / L });
    assert.ok(unstable.gammaL > 2);
    assert.ok(unstable.lossIncreases > 0, `a step of 60 / L should make g go up somewhere; it went up at ${unstable.lossIncreases} steps`);
  } finally {
    dispose([dev.x, dev.yT]);
  }
});

s('innerStability refuses features that do not fit their count', async () => {
  const { dev, cpu } = deviceSet();
  try {
    await rejectsWith(() => innerStability(dev, { ...cpu, n: N + 1 }, 0.01, { T: 2, gamma: 0.1 }), 'do not fit 11 rows of 4 features');
  } finally {
    dispose([dev.x, dev.yT]);
  }
});

s.run();
