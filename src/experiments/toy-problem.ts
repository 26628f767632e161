// The paper's 2-D toy problem (section 4.1) and its closed forms.
//   f(w) = ||w||^2 + 10 ||sin w||^2,   f~(w, lambda) = f(w) + 5 ||lambda - (1, 0)||^2,
//   g(w, lambda) = 1/2 (w - lambda)^T G (w - lambda),  G = diag(1, 1/2),
//   w_hat = T = 100 steps of gradient descent on g with gamma = 0.1 from w_0 = (2, 2).
import { Tensor, tensor } from '../tensor.js';
import { add, mul, sin, square, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { gradientDescent } from '../bilevel/inner.js';
import type { BilevelProblem } from '../bilevel/problem.js';

export const TOY = {
  G: [1, 0.5] as const,
  T: 100,
  gamma: 0.1,
  w0: [2, 2] as const,
  /** g is 1-smooth and alpha = 1/2 strongly convex; B_t = gamma G, so M_B = gamma. */
  alpha: 0.5,
  /** The centre of f~'s extra term 5 ||lambda - (1, 0)||^2. */
  tildeCentre: [1, 0] as const,
};

export type ToyObjective = 'f' | 'f~';

export interface ToySettings {
  T?: number;
  gamma?: number;
  objective?: ToyObjective;
}

/** The toy problem as a BilevelProblem over lambda in R^2. Dispose `G` and `centre` via `dispose()`. */
export function toyProblem(settings: ToySettings = {}): BilevelProblem<Tensor, Tensor> & { dispose(): void } {
  const T = settings.T ?? TOY.T;
  const gamma = settings.gamma ?? TOY.gamma;
  const G = tensor([...TOY.G]);
  const centre = tensor([...TOY.tildeCentre]);
  const inner = (w: Tensor, lambda: Tensor): Tensor => mul(sum(mul(G, square(sub(w, lambda)))), 0.5);
  const f = (w: Tensor): Tensor => add(sum(square(w)), mul(sum(square(sin(w))), 10));
  const outer = settings.objective === 'f~'
    ? (w: Tensor, lambda: Tensor): Tensor => add(f(w), mul(sum(square(sub(lambda, centre))), 5))
    : (w: Tensor): Tensor => f(w);
  return {
    T,
    gamma,
    lambdaShapes: [[2]],
    init: () => tensor([...TOY.w0]),
    step: gradientDescent(inner, gamma),
    outer,
    inner,
    dispose: () => {
      G.dispose();
      centre.dispose();
    },
  };
}

// ---- closed forms (float64, on the CPU), docs/methods.md section 2 ---------------------------

/** w_hat = C w_0 + (I - C) lambda with C = (I - gamma G)^T (diagonal). */
export function toyWHat(lambda: readonly number[], s: ToySettings = {}): number[] {
  const T = s.T ?? TOY.T;
  const gamma = s.gamma ?? TOY.gamma;
  return TOY.G.map((g, i) => {
    const c = (1 - gamma * g) ** T;
    return c * TOY.w0[i]! + (1 - c) * lambda[i]!;
  });
}

/** grad_w f at w: 2 w + 20 sin(w) cos(w). */
export function toyGradF(w: readonly number[]): number[] {
  return w.map((x) => 2 * x + 10 * Math.sin(2 * x));
}

export function toyF(w: readonly number[]): number {
  return w.reduce((acc, x) => acc + x * x + 10 * Math.sin(x) ** 2, 0);
}

/**
 * h_{T-K} = (I - (I - gamma G)^K) grad f(w_hat) (+ grad_lambda f~ for f~); K = T gives the exact
 * hypergradient d_lambda f, since B_0 = 0.
 */
export function toyHypergradient(lambda: readonly number[], K: number, s: ToySettings = {}): number[] {
  const gamma = s.gamma ?? TOY.gamma;
  const df = toyGradF(toyWHat(lambda, s));
  return TOY.G.map((g, i) => {
    const h = (1 - (1 - gamma * g) ** K) * df[i]!;
    return s.objective === 'f~' ? h + 10 * (lambda[i]! - TOY.tildeCentre[i]!) : h;
  });
}

/** The outer objective value at lambda (f or f~). */
export function toyOuterValue(lambda: readonly number[], s: ToySettings = {}): number {
  const w = toyWHat(lambda, s);
  const extra = s.objective === 'f~' ? 5 * lambda.reduce((acc, l, i) => acc + (l - TOY.tildeCentre[i]!) ** 2, 0) : 0;
  return toyF(w) + extra;
}

/**
 * The global minimiser of f(w_hat(lambda)) (+ 5 ||lambda - (1, 0)||^2 for f~). Everything is
 * separable per coordinate: w_hat_i = c_i w0_i + (1 - c_i) lambda_i with c_i = (1 - gamma G_i)^T.
 * For f the minimum is f = 0 at w_hat = 0, so lambda*_i = -c_i w0_i / (1 - c_i) exactly. For f~ a
 * scan of each coordinate on [-10, 10] with step 1e-3 picks the best basin and Newton's method on
 * the derivative polishes it to float64 precision.
 */
export function toyOptimum(s: ToySettings): number[] {
  const T = s.T ?? TOY.T;
  const gamma = s.gamma ?? TOY.gamma;
  return TOY.G.map((g, i) => {
    const c = (1 - gamma * g) ** T;
    const w0 = TOY.w0[i]!;
    if (s.objective !== 'f~') return (-c * w0) / (1 - c);
    const e = TOY.tildeCentre[i]!;
    const F = (x: number) => {
      const w = c * w0 + (1 - c) * x;
      return w * w + 10 * Math.sin(w) ** 2 + 5 * (x - e) ** 2;
    };
    let best = 0;
    for (let x = -10; x <= 10; x += 1e-3) if (F(x) < F(best)) best = x;
    for (let it = 0; it < 50; it++) {
      const w = c * w0 + (1 - c) * best;
      const d1 = (1 - c) * (2 * w + 10 * Math.sin(2 * w)) + 10 * (best - e);
      const d2 = (1 - c) ** 2 * (2 + 20 * Math.cos(2 * w)) + 10;
      const step = d1 / d2;
      best -= step;
      if (Math.abs(step) < 1e-15) break;
    }
    return best;
  });
}
