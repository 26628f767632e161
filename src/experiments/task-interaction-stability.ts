// Is the C = 0 reference of task interaction trained stably? Two checks of its inner loop (T
// gradient-descent steps of size gamma on g(W) = mean CE + rho ||W||^2, from W_0 = 0) at the rho
// the reference keeps:
//
// - A bound. The Hessian of the softmax cross-entropy in the logits is diag(p) - p p^T, whose
//   largest eigenvalue is at most max_i 2 p_i (1 - p_i) <= 1/2 (Gershgorin). So the Hessian of g
//   in W is at most L = (1/2) lambda_max(X^T X / n) + 2 rho everywhere, and gradient descent with
//   gamma L < 2 decreases g at every step from any start (the descent lemma). lambda_max comes
//   from power iteration on the training features (bias column included), in float64 on the CPU.
// - The trace. g(W_t) for t = 0..T, read back at every step: the number of steps at which it went
//   up (by more than float32 rounding) should be 0.
import type { Tensor } from '../index.js';
import type { DeviceExamples, Examples } from './shared/examples.js';
import { readScalar } from './shared/metrics.js';
import { runSteps } from './shared/steps.js';
import { innerObjective, innerStep, initialWeights, type TaskInteractionSettings } from './task-interaction-problem.js';

/** What the two checks found for one trial's C = 0 reference. */
export interface InnerStability {
  /** lambda_max(X^T X / n) of the training features (bias column included). */
  lambdaMaxGram: number;
  /** gamma L with L = lambda_max / 2 + 2 rho: under 2, every step decreases g. */
  gammaL: number;
  /** Steps t at which g(W_{t+1}) > g(W_t) (1 + 1e-6): 0 for a stable run. */
  lossIncreases: number;
  /** g(W_0) and g(W_T). */
  lossStart: number;
  lossEnd: number;
}

/**
 * The largest eigenvalue of X^T X / n for row-major features X [n, d], by power iteration in
 * float64 (X^T X is never formed: each iteration is X^T (X v)). Stops when the Rayleigh quotient
 * changes by less than 1e-12 relative, and throws if that takes more than `maxIterations` (a
 * number that has not converged is not a bound).
 */
export function largestGramEigenvalue(features: Float32Array, n: number, d: number, maxIterations = 5000): number {
  if (features.length !== n * d || n < 1 || d < 1) {
    throw new Error(`largestGramEigenvalue: ${features.length} values do not fit ${n} rows of ${d} features`);
  }
  let v = new Float64Array(d);
  // A start with a component along every direction (a constant vector could be orthogonal to the top one).
  for (let j = 0; j < d; j++) v[j] = 1 + ((j * 7919) % 13) / 13;
  const xv = new Float64Array(n);
  let previous = 0;
  for (let it = 0; it < maxIterations; it++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += v[j]! * v[j]!;
    norm = Math.sqrt(norm);
    if (norm === 0) return 0;
    for (let j = 0; j < d; j++) v[j]! /= norm;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * d;
      for (let j = 0; j < d; j++) s += features[row + j]! * v[j]!;
      xv[i] = s;
    }
    const next = new Float64Array(d);
    let rayleigh = 0;
    for (let i = 0; i < n; i++) {
      const a = xv[i]!;
      rayleigh += a * a;
      const row = i * d;
      for (let j = 0; j < d; j++) next[j]! += features[row + j]! * a;
    }
    rayleigh /= n;
    if (it > 0 && Math.abs(rayleigh - previous) <= 1e-12 * rayleigh) return rayleigh;
    previous = rayleigh;
    v = next;
  }
  throw new Error(`largestGramEigenvalue: power iteration on ${n} x ${d} features did not converge in ${maxIterations} iterations; raise maxIterations`);
}

/** Both checks for one trial: the bound at `rho` and the trace of g along the T steps. */
export async function innerStability(train: DeviceExamples, trainCpu: Examples, rho: number, s: TaskInteractionSettings): Promise<InnerStability> {
  const lambdaMaxGram = largestGramEigenvalue(trainCpu.features, trainCpu.n, trainCpu.nFeatures);
  const g = (W: Tensor) => readScalar(() => innerObjective(W, null, rho, train));
  let W = initialWeights(train.yT.shape[0]!, train.x.shape[1]!);
  const lossStart = await g(W);
  let last = lossStart;
  let lossIncreases = 0;
  for (let t = 0; t < s.T; t++) {
    const next = runSteps(W, 1, (w) => innerStep(w, null, rho, train, s.gamma));
    W = next;
    const value = await g(W);
    if (!(value <= last * (1 + 1e-6))) lossIncreases++;
    last = value;
  }
  W.dispose();
  return { lambdaMaxGram, gammaL: s.gamma * (lambdaMaxGram / 2 + 2 * rho), lossIncreases, lossStart, lossEnd: last };
}
