// A bilevel problem in the paper's notation (section 2.2, eq. 4):
//   w_0 = Xi_0(lambda),  w_{t+1} = Xi_{t+1}(w_t, lambda),  w_hat = w_T,  minimise f(w_T, lambda).
// The inner state may hold several tensors (weights and momentum); so may lambda.
import { Tensor, tensorsIn, type Shape } from '../tensor.js';

/** A tensor, or an array / plain object of tensors (nested allowed). */
export type Tree = Tensor | readonly Tree[] | { readonly [k: string]: Tree };

/**
 * A bilevel problem in the paper's notation (section 2.2, eq. 4): the inner state starts at
 * w_0 = Xi_0(lambda) and takes T steps w_{t+1} = Xi_{t+1}(w_t, lambda); the outer objective
 * f(w_T, lambda) is minimised over the hyperparameters lambda. {@link hypergradient} computes
 * d_lambda f or its truncated approximation. `S` is the type of the inner state, `L` that of
 * lambda: tensors, or arrays and plain objects of them.
 */
export interface BilevelProblem<S extends Tree = Tree, L extends Tree = Tree> {
  /** Horizon T: the number of inner steps. */
  T: number;
  /** Xi_0(lambda): the initial inner state; may depend on lambda (then B_0 != 0). */
  init: (lambda: L) => S;
  /** Xi_{t+1}(w_t, lambda): one inner step, t = 0..T-1. Must be built from hypertape ops. */
  step: (state: S, lambda: L, t: number) => S;
  /** The outer objective f(w_T, lambda), a scalar tensor. */
  outer: (state: S, lambda: L) => Tensor;
  /**
   * The inner objective g(w, lambda) when the problem has one (needed by implicit
   * differentiation, `cg` and `neumann`, which solve with its Hessian at w_T). `w` is the first
   * tensor of the state when the state holds more (e.g. momentum).
   */
  inner?: (w: Tensor, lambda: L) => Tensor;
  /** The inner step size gamma used by `neumann` (the Neumann series of I - gamma H). */
  gamma?: number;
  /** Shapes of lambda's tensors in order; when given, a lambda that differs is rejected up front. */
  lambdaShapes?: readonly Shape[];
}

/** A tree taken apart by {@link flattenTree}. */
export interface FlatTree<T extends Tree> {
  /** The tree's tensors, depth first, in key order. */
  leaves: Tensor[];
  /** The same tree with other tensors (as many, in the same order) in place of the leaves. */
  rebuild: (leaves: readonly Tensor[]) => T;
}

/** The tensors of a tree in a fixed order, and a way to rebuild the tree from such a list. */
export function flattenTree<T extends Tree>(tree: T): FlatTree<T> {
  const leaves = tensorsIn(tree);
  const rebuild = (xs: readonly Tensor[]): T => {
    let i = 0;
    const walk = (v: unknown): unknown => {
      if (v instanceof Tensor) return xs[i++];
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(tree) as T;
  };
  return { leaves, rebuild };
}
