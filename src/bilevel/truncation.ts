// Every truncated hypergradient of one problem in one reverse pass: h_{T-K} for K = 1..T
// (eq. 8), the way the paper plots the relative error of K-RMD against its depth K. Calling
// krmd once per K would walk back 1 + 2 + ... + T steps; here the T iterates are kept (memory
// O(T) iterates, like full RMD) and eq. 6 is walked once, one step per tape:
//   h_T = grad_lambda f, alpha_T = grad_w f,
//   h_{t-1} = h_t + B_t alpha_t, alpha_{t-1} = A_t alpha_t,
// and h_{T-K} is reported as soon as step T-K+1 has been walked back. At K = T the B_0 alpha_0
// term of Xi_0 is added too, so the last one equals full RMD (and krmd with K = T).
import { Tensor, dispose, tensorsIn, tidy } from '../tensor.js';
import { Tape } from '../autodiff/tape.js';
import { add } from '../ops/elementwise.js';
import { zeros } from '../ops/create.js';
import { flattenTree, type BilevelProblem, type Tree } from './problem.js';
import { validate } from './hypergradient.js';

/**
 * Walks eq. 6 back from w_T and calls `onTruncated(K, h)` with h = h_{T-K} for K = 1, 2, ..., T
 * (the K = T one includes Xi_0's B_0 alpha_0: full RMD). `h` is lent for the call only (copy what
 * you keep). Returns f(w_T, lambda).
 */
export async function truncationPath<S extends Tree, L extends Tree>(
  problem: BilevelProblem<S, L>,
  lambda: L,
  onTruncated: (K: number, h: L) => void | Promise<void>,
): Promise<number> {
  validate(problem, lambda, { method: 'rmd' });
  const { T } = problem;
  const { leaves: lam, rebuild: asLambda } = flattenTree(lambda);
  // Forward (eq. 4) with no tape, keeping w_0 .. w_T.
  const iterates: S[] = [tidy(() => problem.init(lambda))];
  for (let t = 0; t < T; t++) iterates.push(tidy(() => problem.step(iterates[t]!, lambda, t)));
  let h: Tensor[] = [];
  let alpha: Tensor[] = [];
  let f = NaN;
  try {
    // Seeds: the gradients of f at (w_T, lambda).
    {
      const wT = tensorsIn(iterates[T]);
      const tape = new Tape({ name: 'outer f' });
      try {
        tape.watch(...lam, ...wT);
        const value = tape.run(() => tidy(() => problem.outer(iterates[T]!, lambda)));
        const gs = tape.gradient(value, [...lam, ...wT]);
        f = await value.item();
        value.dispose();
        h = gs.slice(0, lam.length);
        alpha = gs.slice(lam.length);
      } finally {
        tape.dispose();
      }
    }
    for (let t = T; t >= 1; t--) {
      const prev = iterates[t - 1]!;
      const { leaves: w, rebuild } = flattenTree(prev);
      const tape = new Tape({ name: `step ${t}` });
      let parts: Tensor[];
      try {
        tape.watch(...lam, ...w);
        const end = tape.run(() => tidy(() => tensorsIn(problem.step(rebuild(w), lambda, t - 1))));
        parts = tape.gradient(end, [...lam, ...w], { seed: alpha });
        dispose(end);
      } finally {
        tape.dispose();
      }
      const [hOld, alphaOld] = [h, alpha];
      h = tidy(() => hOld.map((x, i) => add(x, parts[i]!)));
      alpha = parts.slice(lam.length);
      dispose([hOld, alphaOld, parts.slice(0, lam.length)]);
      if (t === 1) {
        // B_0 alpha_0: Xi_0's dependence on lambda.
        const tape0 = new Tape({ name: 'Xi_0' });
        try {
          tape0.watch(...lam);
          const w0 = tape0.run(() => tidy(() => tensorsIn(problem.init(lambda))));
          const tracked = w0.map((x) => tape0.isTracked(x));
          const B0 = tracked.some(Boolean)
            ? tape0.gradient(w0.filter((_, i) => tracked[i]), lam, { seed: alpha.filter((_, i) => tracked[i]) })
            : lam.map((l) => zeros(l.shape));
          dispose(w0);
          const hOld2 = h;
          h = tidy(() => hOld2.map((x, i) => add(x, B0[i]!)));
          dispose([hOld2, B0]);
        } finally {
          tape0.dispose();
        }
      }
      await onTruncated(T - t + 1, asLambda(h));
    }
  } finally {
    dispose([h, alpha, iterates]);
  }
  return f;
}
