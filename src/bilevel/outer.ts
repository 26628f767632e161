// Outer optimizers: update lambda with a hypergradient. SGD uses the paper's decaying step
// eta_tau = eta_0 / sqrt(tau) (Theorem 3.3); Adam (Kingma and Ba) is offered too. An optional
// projection runs after each step (e.g. keep a matrix symmetric and non-negative).
import { Tensor, dispose, tidy, shapeStr } from '../tensor.js';
import { add, div, mul, sqrt, square, sub } from '../ops/elementwise.js';
import { zeros } from '../ops/create.js';
import { flattenTree, type Tree } from './problem.js';

export interface OuterOptimizer<L extends Tree> {
  /** Returns the next lambda (new tensors; the caller disposes the old ones when done). */
  step(lambda: L, grad: L): L;
  /** Hyper-iterations taken so far. */
  readonly tau: number;
}

function checkSameShapes(what: string, a: Tensor[], b: Tensor[]): void {
  if (a.length !== b.length || a.some((t, i) => t.rank !== b[i]!.rank || t.shape.some((d, j) => d !== b[i]!.shape[j]))) {
    throw new Error(`hypertape: ${what}: expected tensors of shapes ${a.map((t) => shapeStr(t.shape)).join(', ')}, ` +
      `got ${b.map((t) => shapeStr(t.shape)).join(', ')}`);
  }
}

function project<L extends Tree>(lambda: L, next: L, projection?: (l: L) => L): L {
  if (!projection) return next;
  const projected = tidy(() => projection(next));
  checkSameShapes('the projection changed the shapes of lambda', flattenTree(lambda).leaves, flattenTree(projected).leaves);
  const keep = new Set(flattenTree(projected).leaves);
  dispose(flattenTree(next).leaves.filter((t) => !keep.has(t)));
  return projected;
}

export interface SGDOptions<L extends Tree> {
  /** eta_0. */
  eta0: number;
  /** 'inverse-sqrt' (default, eta_tau = eta_0 / sqrt(tau)) or 'constant'. */
  schedule?: 'inverse-sqrt' | 'constant';
  project?: (lambda: L) => L;
}

export class SGD<L extends Tree> implements OuterOptimizer<L> {
  tau = 0;
  constructor(readonly opts: SGDOptions<L>) {
    if (!(opts.eta0 > 0)) throw new Error(`hypertape: SGD needs eta0 > 0, got ${opts.eta0}`);
  }

  /** The step size of hyper-iteration tau (1-based). */
  eta(tau: number): number {
    return this.opts.schedule === 'constant' ? this.opts.eta0 : this.opts.eta0 / Math.sqrt(tau);
  }

  step(lambda: L, grad: L): L {
    const l = flattenTree(lambda);
    const g = flattenTree(grad).leaves;
    checkSameShapes('SGD: the gradient does not match lambda', l.leaves, g);
    this.tau++;
    const eta = this.eta(this.tau);
    const next = l.rebuild(tidy(() => l.leaves.map((x, i) => sub(x, mul(g[i]!, eta)))));
    return project(lambda, next, this.opts.project);
  }
}

export interface AdamOptions<L extends Tree> {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  project?: (lambda: L) => L;
}

export class Adam<L extends Tree> implements OuterOptimizer<L> {
  tau = 0;
  private m: Tensor[] | null = null;
  private v: Tensor[] | null = null;
  constructor(readonly opts: AdamOptions<L>) {
    if (!(opts.lr > 0)) throw new Error(`hypertape: Adam needs lr > 0, got ${opts.lr}`);
  }

  step(lambda: L, grad: L): L {
    const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, lr } = this.opts;
    const l = flattenTree(lambda);
    const g = flattenTree(grad).leaves;
    checkSameShapes('Adam: the gradient does not match lambda', l.leaves, g);
    this.m ??= l.leaves.map((x) => zeros(x.shape));
    this.v ??= l.leaves.map((x) => zeros(x.shape));
    this.tau++;
    const t = this.tau;
    const [m0, v0] = [this.m, this.v];
    const { m, v, next } = tidy(() => {
      const m = m0.map((mi, i) => add(mul(mi, beta1), mul(g[i]!, 1 - beta1)));
      const v = v0.map((vi, i) => add(mul(vi, beta2), mul(square(g[i]!), 1 - beta2)));
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      const next = l.leaves.map((x, i) => sub(x, mul(div(mul(m[i]!, 1 / c1), add(sqrt(mul(v[i]!, 1 / c2)), eps)), lr)));
      return { m, v, next };
    });
    dispose([m0, v0]);
    this.m = m;
    this.v = v;
    return project(lambda, l.rebuild(next), this.opts.project);
  }

  /** The first and second moment estimates m, v, one tensor per leaf of lambda (null before the first step); for saving a run. */
  moments(): { m: Tensor[]; v: Tensor[] } | null {
    return this.m && this.v ? { m: this.m, v: this.v } : null;
  }

  /**
   * Continues a saved run: tau steps taken, with moments m and v (shaped like lambda's leaves);
   * the optimizer takes ownership of the tensors. Without moments it starts afresh at tau.
   */
  restore(tau: number, moments: { m: Tensor[]; v: Tensor[] } | null): void {
    if (!Number.isInteger(tau) || tau < 0) throw new Error(`hypertape: Adam.restore needs tau >= 0, got ${tau}`);
    if (moments && moments.m.length !== moments.v.length) throw new Error(`hypertape: Adam.restore: ${moments.m.length} first moments but ${moments.v.length} second moments`);
    dispose([this.m, this.v]);
    this.tau = tau;
    this.m = moments?.m ?? null;
    this.v = moments?.v ?? null;
  }

  dispose(): void {
    dispose([this.m, this.v]);
    this.m = this.v = null;
  }
}
