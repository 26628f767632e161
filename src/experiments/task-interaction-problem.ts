// The bilevel problem of task interaction (paper section 4.2.2, after Franceschi et al. 2017):
// V linear models, one per class, of a multi-class logistic regression, tied together by a
// learned task-similarity matrix C.
//
//   inner  g(W, {C, rho}) = (1/n) sum_i CE(W x_i, y_i) + sum_ij C_ij ||w_i - w_j||^2 + rho sum_v ||w_v||^2
//   outer  f(W)           = (1/m) sum_j CE(W x_j, y_j) over the validation set
//
// Examples are DeviceExamples (X [n, D], the last feature a constant 1; Y^T [V, n]).
// W is [V, D]: row v is the model w_v of class v (its last entry multiplies the constant-1 bias
// feature, so biases are coupled and regularised like the weights). W_0 = 0 (Xi_0 does not depend
// on lambda: B_0 = 0), then T steps of gradient descent with step gamma.
//
// The coupling term through the graph Laplacian. For symmetric C with degrees d_i = sum_j C_ij,
//   sum_ij C_ij ||w_i - w_j||^2 = sum_ij C_ij (||w_i||^2 + ||w_j||^2 - 2 w_i.w_j)
//                              = 2 sum_i d_i ||w_i||^2 - 2 sum_ij C_ij w_i.w_j
//                              = 2 tr(W^T L W),   L = diag(C 1) - C,
// so it costs one [V, V] x [V, D] product (L W) instead of V^2 norms, and its gradient in W is
// 4 L W. The diagonal of C cancels in L (||w_i - w_i|| = 0): it never matters.
//
// Parametrization of lambda = {theta [V, V], logRho []}:
//   C = exp((theta + theta^T) / 2),   rho = exp(logRho).
// C is symmetric and positive by construction, so any outer optimizer may update theta freely
// (no projection step, no clipping at a boundary). The hypergradient in theta is symmetric up to
// the order in which the tape sums the two paths through theta and theta^T; `symmetrizeTheta`,
// run after each outer step, keeps theta itself exactly symmetric (C is so whatever theta is,
// but a symmetric theta reads as C without the exp's average). In log coordinates Adam's steps are relative changes
// of C_ij and rho, which suits entries that may range over orders of magnitude. C = 0 exactly
// (no interaction) is the limit theta -> -infinity; the reference classifier uses it directly.
import {
  Tensor, add, exp, matmul, mean, mul, neg, logSoftmax, softmax, square, sub, sum, transpose, zeros,
} from '../index.js';
import type { BilevelProblem } from '../bilevel/index.js';
import type { DeviceExamples } from './shared/examples.js';
import { argmaxAccuracy, readScalar } from './shared/metrics.js';
import { runSteps } from './shared/steps.js';

/** The hyperparameters as the outer optimizer sees them (a type alias, so it is a Tree). */
export type TaskLambda = {
  /** [V, V]; C = exp((theta + theta^T) / 2). */
  theta: Tensor;
  /** [] ; rho = exp(logRho). */
  logRho: Tensor;
};

/** The inner problem's fixed settings (the paper: T = 100, gamma = 0.1). */
export interface TaskInteractionSettings {
  /** Inner steps (paper: 100). */
  T: number;
  /** Inner step size (paper: 0.1). */
  gamma: number;
}

/** C = exp((theta + theta^T) / 2): symmetric and positive. */
export function interactionMatrix(theta: Tensor): Tensor {
  return exp(mul(add(theta, transpose(theta)), 0.5));
}

/** The outer optimizer's projection: theta <- (theta + theta^T) / 2 (C unchanged, theta exactly symmetric). */
export function symmetrizeTheta(l: TaskLambda): TaskLambda {
  return { theta: mul(add(l.theta, transpose(l.theta)), 0.5), logRho: l.logRho };
}

/** L W with the Laplacian L = diag(C 1) - C, without forming L: (C 1) scales the rows of W. */
export function laplacianTimes(C: Tensor, W: Tensor): Tensor {
  return sub(mul(sum(C, 1, true), W), matmul(C, W));
}

/** sum_ij C_ij ||w_i - w_j||^2 = 2 tr(W^T L W) = 2 sum(W * (L W)), for symmetric C. */
export function interactionPenalty(W: Tensor, C: Tensor): Tensor {
  return mul(sum(mul(W, laplacianTimes(C, W))), 2);
}

/** Class scores W x_i of every example, as the columns of a [V, n] matrix. */
function scores(W: Tensor, set: DeviceExamples): Tensor {
  return matmul(W, set.x, { transB: true });
}

/** Mean cross-entropy (1/n) sum_i -log softmax(W x_i)[y_i]. */
export function meanCrossEntropy(W: Tensor, set: DeviceExamples): Tensor {
  return neg(mean(sum(mul(set.yT, logSoftmax(scores(W, set), 0)), 0)));
}

/** g(W, {C, rho}) written out term by term (autodiff of it is the reference for the closed form). */
export function innerObjective(W: Tensor, C: Tensor | null, rho: Tensor | number, train: DeviceExamples): Tensor {
  const fit = add(meanCrossEntropy(W, train), mul(sum(square(W)), rho));
  return C ? add(fit, interactionPenalty(W, C)) : fit;
}

/**
 * grad_W g in closed form: (1/n) (softmax(W X^T) - Y^T) X + 4 L W + 2 rho W (C = null: no
 * coupling). A test holds it to autodiff of innerObjective; written out so that an inner step
 * costs two passes over X and one small product instead of a generic gradient's tape.
 */
export function innerGradient(W: Tensor, C: Tensor | null, rho: Tensor | number, train: DeviceExamples): Tensor {
  const residuals = mul(sub(softmax(scores(W, train), 0), train.yT), 1 / train.n); // [V, n]
  const fit = add(matmul(residuals, train.x), mul(W, mul(rho, 2)));
  return C ? add(fit, mul(laplacianTimes(C, W), 4)) : fit;
}

/** Xi(W, lambda) = W - gamma grad_W g(W, {C, rho}). */
export function innerStep(W: Tensor, C: Tensor | null, rho: Tensor | number, train: DeviceExamples, gamma: number): Tensor {
  return sub(W, mul(innerGradient(W, C, rho, train), gamma));
}

/** W_0 = 0: every inner run starts there. */
export function initialWeights(V: number, D: number): Tensor {
  return zeros([V, D]);
}

/** The bilevel problem over lambda = {theta, logRho}, as a BilevelProblem for the hypergradient methods. */
export function taskInteractionProblem(
  train: DeviceExamples,
  val: DeviceExamples,
  s: TaskInteractionSettings,
): BilevelProblem<Tensor, TaskLambda> {
  const V = train.yT.shape[0]!;
  const D = train.x.shape[1]!;
  if (val.x.shape[1] !== D || val.yT.shape[0] !== V) {
    throw new Error(`task interaction: validation set ${val.x.describe()} / ${val.yT.describe()} does not match the training set's ${D} features and ${V} classes`);
  }
  return {
    T: s.T,
    gamma: s.gamma,
    lambdaShapes: [[V, V], []],
    inner: (W, l) => innerObjective(W, interactionMatrix(l.theta), exp(l.logRho), train),
    init: () => initialWeights(V, D),
    step: (W, l) => innerStep(W, interactionMatrix(l.theta), exp(l.logRho), train, s.gamma),
    outer: (W) => meanCrossEntropy(W, val),
  };
}

/** The hyperparameter of the C = 0 reference: rho = exp(logRho) alone. */
export type RidgeLambda = {
  logRho: Tensor;
};

/**
 * The reference problem without task interaction (C = 0): the same inner and outer objectives,
 * rho the only hyperparameter. Tuned by the same outer loop, it is what learned C is compared to.
 */
export function ridgeProblem(train: DeviceExamples, val: DeviceExamples, s: TaskInteractionSettings): BilevelProblem<Tensor, RidgeLambda> {
  const V = train.yT.shape[0]!;
  const D = train.x.shape[1]!;
  return {
    T: s.T,
    gamma: s.gamma,
    lambdaShapes: [[]],
    inner: (W, l) => innerObjective(W, null, exp(l.logRho), train),
    init: () => initialWeights(V, D),
    step: (W, l) => innerStep(W, null, exp(l.logRho), train, s.gamma),
    outer: (W) => meanCrossEntropy(W, val),
  };
}

/**
 * W_T: T gradient-descent steps from W_0 = 0 with a fixed C (null: C = 0, no interaction) and
 * rho, with no tape. Used for the metrics at the final lambda and for the C = 0 reference.
 */
export function trainClassifier(C: Tensor | null, rho: number | Tensor, train: DeviceExamples, s: TaskInteractionSettings): Tensor {
  return runSteps(initialWeights(train.yT.shape[0]!, train.x.shape[1]!), s.T, (W) => innerStep(W, C, rho, train, s.gamma));
}

/** Fraction of examples whose arg-max class is their label. */
export function accuracy(W: Tensor, set: DeviceExamples): Promise<number> {
  return argmaxAccuracy(() => scores(W, set), set.labels.subarray(0, set.n));
}

/** The mean cross-entropy of W on a set, read back. */
export function meanLoss(W: Tensor, set: DeviceExamples): Promise<number> {
  return readScalar(() => meanCrossEntropy(W, set));
}
