// Outer optimizers: update lambda with a hypergradient. SGD uses the paper's decaying step
// eta_tau = eta_0 / sqrt(tau) (Theorem 3.3); Adam (Kingma and Ba) is offered too. An optional
// projection runs after each step (e.g. keep a matrix symmetric and non-negative).
import { Tensor, tensor, dispose, tidy, shapeStr } from '../tensor.js';
import { add, div, mul, sqrt, square, sub } from '../ops/elementwise.js';
import { zeros } from '../ops/create.js';
import { flattenTree, type Tree } from './problem.js';

/** An outer optimizer: turns lambda and a hypergradient into the next lambda. */
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

/** Options of {@link SGD}. */
export interface SGDOptions<L extends Tree> {
  /** eta_0. */
  eta0: number;
  /** 'inverse-sqrt' (default, eta_tau = eta_0 / sqrt(tau)) or 'constant'. */
  schedule?: 'inverse-sqrt' | 'constant';
  /** Runs after every step (e.g. to keep lambda in a feasible set); must keep lambda's shapes. */
  project?: (lambda: L) => L;
}

/**
 * Stochastic gradient descent on lambda with the paper's step sizes eta_tau = eta_0 / sqrt(tau)
 * (Theorem 3.3), or a constant step: lambda <- lambda - eta_tau h.
 */
export class SGD<L extends Tree> implements OuterOptimizer<L> {
  tau = 0;
  /** @param opts The step size eta_0, its schedule and an optional projection. */
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

/** Options of {@link Adam}. */
export interface AdamOptions<L extends Tree> {
  /** The step size (learning rate). */
  lr: number;
  /** Decay of the first-moment average (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment average (default 0.999). */
  beta2?: number;
  /** Added to the root of the second moment (default 1e-8). */
  eps?: number;
  /** Runs after every step (e.g. to keep lambda in a feasible set); must keep lambda's shapes. */
  project?: (lambda: L) => L;
}

/** Adam's state as plain numbers (for saving a resumable run): the step count and both moments per leaf. */
export interface AdamState {
  /** Steps taken (the bias correction's t). */
  tau: number;
  /** First moments, one array per leaf of lambda (null before the first step). */
  m: number[][] | null;
  /** Second moments, likewise. */
  v: number[][] | null;
}

/**
 * Adam (Kingma and Ba) on lambda, with bias correction. Holds its moment estimates on the GPU:
 * call {@link Adam.dispose} when done.
 */
export class Adam<L extends Tree> implements OuterOptimizer<L> {
  tau = 0;
  private m: Tensor[] | null = null;
  private v: Tensor[] | null = null;
  /** @param opts The step size, the moment decays, epsilon and an optional projection. */
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

  /** The state, read back from the GPU; `restore` continues from it exactly. */
  async save(): Promise<AdamState> {
    const read = async (xs: Tensor[] | null) => (xs ? Promise.all(xs.map(async (x) => Array.from(await x.data()))) : null);
    return { tau: this.tau, m: await read(this.m), v: await read(this.v) };
  }

  /** Continues from a saved state; `lambda` gives the leaves' shapes (checked against the saved moments). */
  restore(state: AdamState, lambda: L): void {
    const leaves = flattenTree(lambda).leaves;
    const load = (xs: number[][] | null, what: string) => {
      if (!xs) return null;
      if (xs.length !== leaves.length || xs.some((x, i) => x.length !== leaves[i]!.size)) {
        throw new Error(`hypertape: Adam.restore: saved ${what} have sizes ${xs.map((x) => x.length).join(', ')}, lambda's leaves ${leaves.map((t) => t.size).join(', ')}`);
      }
      return xs.map((x, i) => tensor(Float32Array.from(x), leaves[i]!.shape));
    };
    const m = load(state.m, 'first moments');
    const v = load(state.v, 'second moments');
    dispose([this.m, this.v]);
    this.m = m;
    this.v = v;
    this.tau = state.tau;
  }

  /** Frees the moment estimates (the next step starts them again from zero). */
  dispose(): void {
    dispose([this.m, this.v]);
    this.m = this.v = null;
  }
}
