// Built-in inner optimizers: each returns a step function Xi_{t+1}(state, lambda, t) built from
// differentiable ops, so every hypergradient method can differentiate through it.
import { Tensor } from '../tensor.js';
import { grad } from '../autodiff/api.js';
import { add, mul, sub } from '../ops/elementwise.js';
import type { Tree } from './problem.js';

/** A hyperparameter-dependent scalar: a fixed number, or a function of lambda (learnable). */
export type Scalar<L> = number | ((lambda: L) => Tensor);

function resolve<L>(s: Scalar<L>, lambda: L): Tensor | number {
  return typeof s === 'number' ? s : s(lambda);
}

/** Throws unless `inner` is a function and `s` a finite number or a function of lambda. */
function checkArgs(what: string, inner: unknown, scalars: Record<string, unknown>): void {
  if (typeof inner !== 'function') {
    throw new Error(`hypertape: ${what} needs the inner loss g(w, lambda) as a function (its first argument); got ${describeArg(inner)}.`);
  }
  for (const [name, s] of Object.entries(scalars)) {
    if (!(typeof s === 'function' || (typeof s === 'number' && Number.isFinite(s)))) {
      throw new Error(`hypertape: ${what}: ${name} must be a finite number or a function of lambda returning a tensor; got ${describeArg(s)}.`);
    }
  }
}

function describeArg(v: unknown): string {
  return v === undefined || v === null ? String(v) : `a ${typeof v} (${String(v)})`;
}

function checkScalarLoss(g: Tensor): Tensor {
  if (!(g instanceof Tensor) || g.size !== 1) {
    throw new Error(`hypertape: the inner loss g(w, lambda) must return a scalar tensor, got ${g instanceof Tensor ? g.describe() : typeof g}`);
  }
  return g;
}

/** Gradient of the inner loss with respect to w (a differentiable op: a Hessian appears when it is differentiated). */
export function innerGradient<L extends Tree>(inner: (w: Tensor, lambda: L) => Tensor) {
  return (w: Tensor, lambda: L): Tensor => grad((ww: Tensor) => checkScalarLoss(inner(ww, lambda)))(w);
}

/** Gradient descent: Xi(w, lambda) = w - gamma(lambda) grad_w g(w, lambda) (section 2.2). */
export function gradientDescent<L extends Tree>(inner: (w: Tensor, lambda: L) => Tensor, stepSize: Scalar<L>) {
  checkArgs('gradientDescent(inner, stepSize)', inner, { 'the step size': stepSize });
  const gradW = innerGradient(inner);
  return (w: Tensor, lambda: L, _t: number): Tensor => sub(w, mul(gradW(w, lambda), resolve(stepSize, lambda)));
}

// A type alias (not an interface) so that it is assignable to Tree's index signature.
/** The inner state of {@link heavyBall}: the weights and their velocity. */
export type HeavyBallState = {
  /** The weights w_t. */
  w: Tensor;
  /** The velocity v_t. */
  v: Tensor;
};

/**
 * Heavy-ball momentum: v_{t+1} = mu v_t + grad_w g(w_t, lambda), w_{t+1} = w_t - gamma v_{t+1}.
 * The state holds both w and the velocity v (the paper's footnote 2: other internal states).
 */
export function heavyBall<L extends Tree>(inner: (w: Tensor, lambda: L) => Tensor, opts: { stepSize: Scalar<L>; momentum: Scalar<L> }) {
  if (!opts || typeof opts !== 'object') {
    throw new Error(`hypertape: heavyBall(inner, { stepSize, momentum }) needs its options object; got ${describeArg(opts)}.`);
  }
  checkArgs('heavyBall(inner, { stepSize, momentum })', inner, { stepSize: opts.stepSize, momentum: opts.momentum });
  const gradW = innerGradient(inner);
  return (state: HeavyBallState, lambda: L, _t: number): HeavyBallState => {
    const v = add(mul(state.v, resolve(opts.momentum, lambda)), gradW(state.w, lambda));
    const w = sub(state.w, mul(v, resolve(opts.stepSize, lambda)));
    return { w, v };
  };
}
