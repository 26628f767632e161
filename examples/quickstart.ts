// A bilevel problem of your own, end to end: ridge regression whose per-feature regularisation
// weights lambda are tuned on a validation set. Run it with `npm run example`.
import {
  init, tensor, randomNormal, add, sub, mul, mean, sum, square, exp, matmul, reshape, zeros, dispose,
  hypergradient, gradientDescent, cosineSimilarity, type BilevelProblem, type Tensor,
} from '../src/node.js';

await init({ verbose: true });

const [n, d] = [200, 20];
const X = randomNormal([n, d], { seed: 1 });
const y = matmul(X, randomNormal([d, 1], { seed: 2 }));
const Xval = randomNormal([n, d], { seed: 3 });
const yval = matmul(Xval, randomNormal([d, 1], { seed: 2 }));

// g(w, lambda): training loss plus sum_j exp(lambda_j) w_j^2;  f(w): validation loss.
const inner = (w: Tensor, lambda: Tensor) =>
  add(mean(square(sub(matmul(X, w), y))), sum(mul(exp(reshape(lambda, [d, 1])), square(w))));

const problem: BilevelProblem<Tensor, Tensor> = {
  T: 100,
  init: () => zeros([d, 1]),
  step: gradientDescent(inner, 0.05),
  outer: (w) => mean(square(sub(matmul(Xval, w), yval))),
};

const lambda = tensor(new Float32Array(d).fill(-2));
const exact = await hypergradient(problem, lambda, { method: 'rmd' });
console.log(`rmd: f = ${exact.value.toFixed(4)}, ${exact.stats.ms.toFixed(0)} ms, ${(exact.stats.peakBytes / 1024).toFixed(0)} KiB`);
for (const K of [1, 5, 25]) {
  const h = await hypergradient(problem, lambda, { method: 'krmd', K });
  const cos = await cosineSimilarity(h.grad, exact.grad);
  console.log(`krmd K=${K}: cos to exact ${cos.toFixed(4)}, ${h.stats.ms.toFixed(0)} ms, ${(h.stats.peakBytes / 1024).toFixed(0)} KiB`);
  dispose(h.grad);
}
dispose([exact.grad, lambda, X, y, Xval, yval]);
