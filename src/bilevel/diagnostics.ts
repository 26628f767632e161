// The paper's diagnostics: how close an approximate hypergradient is to the exact one, whether
// it is a descent direction, and Proposition 3.1's bound on the truncation error.
import { Tensor, tidy } from '../tensor.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { stack } from '../ops/shape.js';
import { flattenTree, type Tree } from './problem.js';

/** Sums sum(f(a_i, b_i)) over the leaves on the GPU; one readback for all the scalars asked. */
async function reduceLeaves(a: Tree, b: Tree | null, fs: ((x: Tensor, y: Tensor | null) => Tensor)[]): Promise<number[]> {
  const A = flattenTree(a).leaves;
  const B = b ? flattenTree(b).leaves : null;
  if (B && (B.length !== A.length || B.some((t, i) => t.size !== A[i]!.size))) {
    throw new Error('hypertape: diagnostics need two hypergradients of the same structure and shapes');
  }
  const probe = tidy(() =>
    stack(fs.map((f) => A.map((x, i) => sum(f(x, B ? B[i]! : null))).reduce((p, q) => add(p, q)))),
  );
  const d = await probe.data();
  probe.dispose();
  return Array.from(d);
}

/** ||a||_2 over all leaves. */
export async function norm(a: Tree): Promise<number> {
  const [s] = await reduceLeaves(a, null, [(x) => mul(x, x)]);
  return Math.sqrt(s!);
}

/** a^T b over all leaves. */
export async function dot(a: Tree, b: Tree): Promise<number> {
  const [s] = await reduceLeaves(a, b, [(x, y) => mul(x, y!)]);
  return s!;
}

/** cos(angle between a and b). */
export async function cosineSimilarity(a: Tree, b: Tree): Promise<number> {
  const [ab, aa, bb] = await reduceLeaves(a, b, [(x, y) => mul(x, y!), (x) => mul(x, x), (_, y) => mul(y!, y!)]);
  return ab! / Math.sqrt(aa! * bb!);
}

/** ||approx - exact|| / ||exact||. */
export async function relativeError(approx: Tree, exact: Tree): Promise<number> {
  const [dd, ee] = await reduceLeaves(approx, exact, [(x, y) => { const d = sub(x, y!); return mul(d, d); }, (_, y) => mul(y!, y!)]);
  return Math.sqrt(dd! / ee!);
}

/** ||approx - exact||. */
export async function distance(approx: Tree, exact: Tree): Promise<number> {
  const [dd] = await reduceLeaves(approx, exact, [(x, y) => { const d = sub(x, y!); return mul(d, d); }]);
  return Math.sqrt(dd!);
}

/** h^T d / ||d||^2: positive when h is a descent direction for the exact gradient d (Lemma 3.2). */
export async function descentRatio(h: Tree, d: Tree): Promise<number> {
  const [hd, dd] = await reduceLeaves(h, d, [(x, y) => mul(x, y!), (_, y) => mul(y!, y!)]);
  return hd! / dd!;
}

/**
 * Proposition 3.1 (eq. 10), g globally alpha-strongly convex, gamma <= 1/beta:
 * ||h_{T-K} - d_lambda f|| <= (1 - gamma alpha)^K / (gamma alpha) * ||grad_w f|| * M_B.
 */
export function prop31Bound(p: { gamma: number; alpha: number; K: number; gradWNorm: number; MB: number }): number {
  const ga = p.gamma * p.alpha;
  if (!(ga > 0 && ga <= 1)) throw new Error(`hypertape: Proposition 3.1 needs 0 < gamma * alpha <= 1, got ${ga}`);
  return ((1 - ga) ** p.K / ga) * p.gradWNorm * p.MB;
}
