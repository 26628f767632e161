// The bilevel problem of data hypercleaning (paper section 4.2.1) and its metrics.
//
//   inner  g(W, lambda) = (1/n) sum_i sigmoid(lambda_i) CE(W x_i, y_i) + rho ||W||_F^2
//   outer  f(W)         = (1/m) sum_j CE(W x_j, y_j) over the clean validation set
//
// with W in R^{10 x 785} (the last column is the bias: x_i ends with a constant 1), T steps of
// gradient descent with step gamma from W_0 = 0 (so Xi_0 does not depend on lambda: B_0 = 0).
// The paper writes g with a sum over the 5,000 examples; with gamma = 1 that diverges, so g uses
// the mean. At W = 0 the Hessian of the mean is (I/10 - 11^T/100) (x) mean_i(w_i x_i x_i^T), whose
// largest eigenvalue on MNIST is 0.1 * 38.6 * w ~ 1.9 for weights w = 1/2 (lambda = 0): just
// under 2 / gamma. The sum would multiply it by 5,000.
// Example i is flagged as corrupted when sigmoid(lambda_i) < sigmoid(-3), i.e. lambda_i < -3.
import {
  Tensor, tidy, add, crossEntropy, matmul, mul, sigmoid, softmax, square, sub, sum, zeros,
} from '../index.js';
import type { BilevelProblem } from '../bilevel/index.js';
import { FEATURES } from './hypercleaning-data.js';
import type { DeviceExamples } from './shared/examples.js';
import { argmaxAccuracy, readScalar } from './shared/metrics.js';
import { runSteps } from './shared/steps.js';
import { MNIST_CLASSES } from '../data/mnist-format.js';

/** lambda_i below this flags example i as corrupted (the paper's sigmoid(lambda_i) < sigmoid(-3)). */
export const FLAG_THRESHOLD = -3;

export interface HypercleaningSettings {
  /** Inner steps (paper: 100). */
  T: number;
  /** Inner step size (paper: 1). */
  gamma: number;
  /** Weight of ||W||_F^2 in g (paper: 0.001). */
  rho: number;
}

// Examples are columns: scores Z = W X^T are [10, n], one column per example, and the softmax
// runs down each column (axis 0).

/** Class scores W x_i of every example, as the columns of a [10, n] matrix. */
function scores(W: Tensor, set: DeviceExamples): Tensor {
  return matmul(W, set.x, { transB: true });
}

/** CE(W x_i, y_i) = -log softmax(W x_i)[y_i] for every example, shape [n]. */
export function crossEntropies(W: Tensor, set: DeviceExamples): Tensor {
  return crossEntropy(scores(W, set), set.yT, { axis: 0, reduction: 'none' });
}

/** g with per-example weights (sigmoid(lambda) in the bilevel problem; 0/1 for the clean-only oracle). */
export function weightedTrainingLoss(W: Tensor, weights: Tensor, train: DeviceExamples, rho: number): Tensor {
  return add(crossEntropy(scores(W, train), train.yT, { axis: 0, weights }), mul(sum(square(W)), rho));
}

/**
 * grad_W g in closed form: (1/n) sum_i weight_i (softmax(W x_i) - e_{y_i}) x_i^T + 2 rho W.
 * It is what grad(weightedTrainingLoss) computes (a test holds it to that), written out because
 * each inner step then costs two passes over X instead of the three (plus a tape) of a generic
 * gradient, and every hyper-iteration runs T of these steps.
 */
export function trainingLossGradient(W: Tensor, weights: Tensor, train: DeviceExamples, rho: number): Tensor {
  const residuals = mul(sub(softmax(scores(W, train), 0), train.yT), mul(weights, 1 / train.n)); // [10, n]
  return add(matmul(residuals, train.x), mul(W, 2 * rho));
}

/** One gradient-descent step on the weighted training loss: Xi(W, weights) = W - gamma grad_W g. */
export function innerStep(W: Tensor, weights: Tensor, train: DeviceExamples, s: HypercleaningSettings): Tensor {
  return sub(W, mul(trainingLossGradient(W, weights, train, s.rho), s.gamma));
}

/** f(W): the mean cross-entropy over the validation set. */
export function validationLoss(W: Tensor, val: DeviceExamples): Tensor {
  return crossEntropy(scores(W, val), val.yT, { axis: 0 });
}

/** W_0 = 0: the classifier every inner run starts from. */
export function initialWeights(): Tensor {
  return zeros([MNIST_CLASSES, FEATURES]);
}

export function hypercleaningProblem(
  train: DeviceExamples,
  val: DeviceExamples,
  s: HypercleaningSettings,
): BilevelProblem<Tensor, Tensor> {
  return {
    T: s.T,
    gamma: s.gamma,
    inner: (W, lambda) => weightedTrainingLoss(W, sigmoid(lambda), train, s.rho),
    init: () => initialWeights(),
    step: (W, lambda) => innerStep(W, sigmoid(lambda), train, s),
    outer: (W) => validationLoss(W, val),
  };
}

/**
 * W_T: T gradient-descent steps on the weighted training loss from W_0 = 0, with no tape. Used
 * for the metrics at the final lambda and for the two reference classifiers (equal weights,
 * clean examples only), which are trained exactly like the inner problem.
 */
export function trainClassifier(weights: Tensor, train: DeviceExamples, s: HypercleaningSettings): Tensor {
  return runSteps(initialWeights(), s.T, (W) => innerStep(W, weights, train, s));
}

/**
 * The largest stable inner step for fixed weights: gamma / 2^j for the smallest j >= 0 (at most
 * `maxHalvings`) at which T steps of gradient descent from W_0 = 0 decrease the weighted training
 * loss g at every step. With all weights 1 and gamma = 1, g's curvature at W = 0 (about 3.9 on
 * MNIST, see the top of this file) is above 2 / gamma, so W_t oscillates: that run is no
 * baseline. Returns the step and W_T at it.
 */
export async function trainStably(weights: Tensor, train: DeviceExamples, s: HypercleaningSettings, maxHalvings = 6): Promise<{ gamma: number; halvings: number; W: Tensor }> {
  for (let j = 0; ; j++) {
    const at = { ...s, gamma: s.gamma / 2 ** j };
    let W = initialWeights();
    let last = await readScalar(() => weightedTrainingLoss(W, weights, train, s.rho));
    let monotone = true;
    for (let t = 0; t < s.T && monotone; t++) {
      const prev = W;
      W = tidy(() => innerStep(prev, weights, train, at));
      prev.dispose();
      const g = await readScalar(() => weightedTrainingLoss(W, weights, train, s.rho));
      monotone = g <= last * (1 + 1e-6); // float32 rounding near convergence is not an increase
      last = g;
    }
    if (monotone || j === maxHalvings) {
      if (!monotone) {
        W.dispose();
        throw new Error(`hypercleaning: gradient descent on the training loss did not decrease monotonically even at step ${at.gamma} (gamma / 2^${j}); lower --gamma.`);
      }
      return { gamma: at.gamma, halvings: j, W };
    }
    W.dispose();
  }
}

/** Fraction of examples whose arg-max class is their label. */
export function accuracy(W: Tensor, set: DeviceExamples): Promise<number> {
  return argmaxAccuracy(() => scores(W, set), set.labels.subarray(0, set.n));
}

export function meanLoss(W: Tensor, set: DeviceExamples): Promise<number> {
  return readScalar(() => validationLoss(W, set));
}

export interface FlagScores {
  flagged: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
}

/**
 * Precision, recall and F1 of flagging example i as corrupted when lambda_i < FLAG_THRESHOLD
 * (sigmoid is increasing, so this is sigmoid(lambda_i) < sigmoid(-3)). Precision is 0 when
 * nothing is flagged, and F1 is 0 when precision + recall is 0.
 */
export function flagScores(lambda: ArrayLike<number>, corrupted: ArrayLike<number>): FlagScores {
  if (lambda.length !== corrupted.length) throw new Error(`flagScores: ${lambda.length} hyperparameters for ${corrupted.length} examples`);
  let flagged = 0;
  let truePositives = 0;
  let positives = 0;
  for (let i = 0; i < lambda.length; i++) {
    const flag = lambda[i]! < FLAG_THRESHOLD;
    if (flag) flagged++;
    if (corrupted[i]) positives++;
    if (flag && corrupted[i]) truePositives++;
  }
  const precision = flagged ? truePositives / flagged : 0;
  const recall = positives ? truePositives / positives : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { flagged, truePositives, precision, recall, f1 };
}
