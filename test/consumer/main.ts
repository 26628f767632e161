// A consumer of the installed package (test/consumer.test.ts copies this folder into a temporary
// project that has only hypertape installed, type-checks it with tsc --strict and runs it).
// It prints its numbers as one JSON line; the test holds them to float64 closed forms.
import {
  init, tensor, zeros, grad, jvp, hvp, hypergradient, gradientDescent, sum, mul, square, sub,
  type BilevelProblem, type HypergradientOptions, type HypergradientResult, type Tensor,
} from 'hypertape';

const engine = await init();

// grad of sum(x^3) at [1, 2, 3]: 3 x^2.
const cube = (x: Tensor): Tensor => sum(mul(x, mul(x, x)));
const g: Tensor = grad(cube)(tensor([1, 2, 3]));

// jvp of x -> x * x at [1, 2, 3] along [1, 1, 1]: 2 x.
const { out, tangent } = jvp((x: Tensor) => mul(x, x), [tensor([1, 2, 3])], [tensor([1, 1, 1])]);

// hvp of sum(x^3) at [1, 2, 3] along [1, 0, 2]: diag(6 x) v.
const hv: Tensor = hvp(cube, tensor([1, 2, 3]), tensor([1, 0, 2]));

// A bilevel problem: T steps of gradient descent on g(w, lambda) = 1/2 ||w - lambda||^2 from
// w_0 = 0, outer objective f(w_T) = 1/2 ||w_T - 1||^2.
const T = 10;
const gamma = 0.5;
const problem: BilevelProblem<Tensor, Tensor> = {
  T,
  init: () => zeros([2]),
  step: gradientDescent((w: Tensor, lambda: Tensor) => mul(sum(square(sub(w, lambda))), 0.5), gamma),
  outer: (w: Tensor) => mul(sum(square(sub(w, 1))), 0.5),
};
const lambda = tensor([3, -1]);
const methods: HypergradientOptions[] = [{ method: 'rmd' }, { method: 'krmd', K: 2 }];
const results: HypergradientResult<Tensor>[] = [];
for (const options of methods) results.push(await hypergradient(problem, lambda, options));

const hypergradients: Record<string, { value: number; grad: number[]; dispatches: number }> = {};
for (const [i, r] of results.entries()) {
  hypergradients[methods[i]!.method] = { value: r.value, grad: Array.from(await r.grad.data()), dispatches: r.stats.dispatches };
}
console.log(JSON.stringify({
  adapter: engine.adapter.description,
  grad: Array.from(await g.data()),
  jvp: { out: Array.from(await out.data()), tangent: Array.from(await tangent.data()) },
  hvp: Array.from(await hv.data()),
  hypergradients,
}));
