// Losses built from the stable primitives: cross-entropy from logits through logSoftmax, so that
// large logits neither overflow nor lose the small probabilities' digits.
import { Tensor, shapeStr } from '../tensor.js';
import { mul, neg } from './elementwise.js';
import { logSoftmax, mean, sum } from './reduce.js';
import { normAxis, oneHot, permute } from './shape.js';

/** Options of crossEntropy. */
export interface CrossEntropyOptions {
  /** The class axis of the logits (default -1: logits [n, C]). */
  axis?: number;
  /**
   * Per-example weights, shaped like the logits without the class axis: each example's loss is
   * multiplied by its weight (the per-example weights of data hypercleaning, not PyTorch's
   * per-class `weight`).
   */
  weights?: Tensor;
  /**
   * 'mean' (default): the mean over examples of weight_i CE_i, dividing by the number of examples
   * (not by the sum of the weights); 'sum': their sum; 'none': one loss per example.
   */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy -sum_c labels_c log softmax(logits)_c along the class axis, from logits (stable
 * for large ones). `labels` are either i32 class indices, shaped like the logits without the class
 * axis, or f32 probabilities (one-hot or soft), shaped like the logits.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const ax = normAxis('crossEntropy', opts.axis ?? -1, logits.rank);
  const exampleShape = logits.shape.filter((_, i) => i !== ax);
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  let probs: Tensor;
  if (labels.dtype === 'i32') {
    if (!same(labels.shape, exampleShape)) {
      throw new Error(`hypertape: crossEntropy: i32 class labels ${labels.describe()} must have the logits' shape without the class axis ${ax}, ${shapeStr(exampleShape)} (logits ${logits.describe()})`);
    }
    // oneHot puts classes last; move them to the class axis.
    const oh = oneHot(labels, logits.shape[ax]!);
    const last = logits.rank - 1;
    probs = ax === last ? oh : permute(oh, [...Array(logits.rank).keys()].map((i) => (i < ax ? i : i === ax ? last : i - 1)));
  } else {
    if (!same(labels.shape, logits.shape)) {
      throw new Error(`hypertape: crossEntropy: f32 labels (probabilities) ${labels.describe()} must have the logits' shape ${logits.describe()}; pass i32 class indices shaped ${shapeStr(exampleShape)} instead`);
    }
    probs = labels;
  }
  let losses = neg(sum(mul(probs, logSoftmax(logits, ax)), ax));
  if (opts.weights) {
    if (!same(opts.weights.shape, exampleShape)) {
      throw new Error(`hypertape: crossEntropy: weights ${opts.weights.describe()} must be one per example, shaped ${shapeStr(exampleShape)} (logits ${logits.describe()}, class axis ${ax})`);
    }
    losses = mul(opts.weights, losses);
  }
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'none') return losses;
  if (reduction === 'sum') return sum(losses);
  if (reduction === 'mean') return mean(losses);
  throw new Error(`hypertape: crossEntropy: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
}
