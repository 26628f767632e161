// The cost of second order against first order on the hypercleaning shapes (paper section 4.2):
// X 5000x785 inputs, W 10x785, 10 classes, loss = mean_i sigmoid(lambda_i) CE_i + 0.001 ||W||^2.
// One Hessian-vector product (forward-over-reverse: a jvp through the gradient) should cost at
// most 3 gradients; RMD through gradient descent pays one per inner step.
import { add, grad, hvp, jvp, matmul, mean, memory, mul, neg, oneHot, randomNormal, randomUniform, sigmoid, square, sum, logSoftmax, tensor, tidy, dispose, type Tensor } from '../src/node.js';
import { median, spread, time, type BenchRow, type BenchSection } from './util.js';

const N = 5000;
const D = 785;
const C = 10;

function problem(): { X: Tensor; Y: Tensor; lambda: Tensor; W: Tensor; V: Tensor; loss: (W: Tensor) => Tensor; free: () => void } {
  const X = randomUniform([N, D], { seed: 1 });
  const labels = tensor(Int32Array.from({ length: N }, (_, i) => (i * 7) % C));
  const Y = oneHot(labels, C);
  labels.dispose();
  const lambda = randomNormal([N], { seed: 2 });
  const W = randomNormal([C, D], { seed: 3, std: 0.01 });
  const V = randomNormal([C, D], { seed: 4 });
  const weights = sigmoid(lambda);
  const loss = (w: Tensor): Tensor => {
    const ce = neg(sum(mul(Y, logSoftmax(matmul(X, w, { transB: true }), -1)), -1)); // [N]
    return add(mean(mul(weights, ce)), mul(sum(square(w)), 0.001));
  };
  return { X, Y, lambda, W, V, loss, free: () => dispose([X, Y, lambda, W, V, weights]) };
}

/** Dispatches one call of fn enqueues, its results computed (pending ones realised by tidy) and freed. */
function dispatchesOf(fn: () => unknown): number {
  const before = memory().dispatches;
  tidy(fn);
  return memory().dispatches - before;
}

export const autodiff: BenchSection = {
  name: 'autodiff',
  async run(): Promise<BenchRow[]> {
    const p = problem();
    // Each returns its results, so that pending (lazy) ones are computed and timed.
    const f = () => p.loss(p.W);
    const g = () => grad(p.loss)(p.W);
    const jv = () => {
      const r = jvp(p.loss, [p.W], [p.V]);
      return [r.out, r.tangent];
    };
    const h = () => hvp(p.loss, p.W, p.V);
    const opts = { warmup: 2, reps: 7 };
    const tf = await time(f, opts);
    const tg = await time(g, opts);
    const tj = await time(jv, opts);
    const th = await time(h, opts);
    const [df, dg, dj, dh] = [f, g, jv, h].map(dispatchesOf);
    // The ratio from back-to-back pairs, so that load from other processes, which drifts over
    // seconds, weighs on both sides of each pair alike.
    const ratios: number[] = [];
    for (let r = 0; r < 9; r++) {
      const one = await time(g, { warmup: 0, reps: 1 });
      const two = await time(h, { warmup: 0, reps: 1 });
      ratios.push(two.median / one.median);
    }
    p.free();
    const ratio = median(ratios);
    const shapes = `X ${N}x${D}, W ${C}x${D}`;
    return [
      { name: `loss (${shapes})`, ms: tf.median, note: `${df} dispatches; ${spread(tf)}` },
      { name: 'gradient grad(loss)(W)', ms: tg.median, note: `${dg} dispatches; ${spread(tg)}` },
      { name: 'jvp(loss, W, V)', ms: tj.median, note: `${dj} dispatches; ${spread(tj)}` },
      { name: 'hvp(loss, W, V)', ms: th.median, note: `${dh} dispatches; ${spread(th)}` },
      {
        name: 'hvp / gradient',
        ms: th.median,
        rate: ratio,
        unit: 'x gradient',
        target: '<= 3x one gradient',
        met: ratio <= 3,
        note: `median of 9 back-to-back pairs (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); forward-over-reverse, ${dh} vs ${dg} dispatches`,
      },
    ];
  },
};
