// Argument checks for hypergradient(): everything that can be checked before any GPU work
// (options, the problem's fields, lambda), and a wrapper that checks what the problem's
// functions return as they run, so a mistake in user code is named where it happens instead of
// surfacing as a TypeError deep inside a method.
import { Tensor, shapeStr, tensorsIn } from '../tensor.js';
import type { BilevelProblem, Tree } from './problem.js';
import type { HypergradientOptions, Method } from './hypergradient.js';

const METHODS: readonly Method[] = ['rmd', 'krmd', 'checkpoint', 'fmd', 'cg', 'neumann'];

function shapesOf(leaves: Tensor[]): string {
  return leaves.map((t) => shapeStr(t.shape)).join(', ');
}

/** What a value is, for messages: `a number (3)`, `undefined`, `an object with keys a, b`. */
function kindOf(v: unknown): string {
  if (v === undefined || v === null) return String(v);
  if (v instanceof Tensor) return `the tensor ${v.describe()}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).join(', ') || '(none)'}`;
  if (typeof v === 'function') return 'a function';
  return `a ${typeof v} (${String(v)})`;
}

/** The first place in `v` that is not a tensor, an array or a plain object (a path like `.w[1]`), or null. */
function notATree(v: unknown, path = ''): { path: string; value: unknown } | null {
  if (v instanceof Tensor) return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = notATree(v[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return null;
  }
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) {
      const bad = notATree(x, `${path}.${k}`);
      if (bad) return bad;
    }
    return null;
  }
  return { path, value: v };
}

/** Throws unless `v` is a tree of tensors (a tensor, or arrays / plain objects of them) with at least one tensor. */
function checkTree(what: string, v: unknown, expected: string): void {
  const bad = notATree(v);
  if (bad) {
    throw new Error(`hypertape: ${what} ${bad.path ? `holds ${kindOf(bad.value)} at ${bad.path}` : `is ${kindOf(bad.value)}`}; ` +
      `it must be ${expected}: a tensor, or an array / plain object of tensors.`);
  }
  if (tensorsIn(v).length === 0) throw new Error(`hypertape: ${what} holds no tensors; it must be ${expected}.`);
}

/** Checks everything that can be checked before any GPU work. */
export function validate<S extends Tree, L extends Tree>(problem: BilevelProblem<S, L>, lambda: L, opts: HypergradientOptions): void {
  if (!problem || typeof problem !== 'object') {
    throw new Error(`hypertape: hypergradient(problem, lambda, options): problem is ${kindOf(problem)}; pass a BilevelProblem { T, init, step, outer }.`);
  }
  if (!opts || typeof opts !== 'object') {
    throw new Error(`hypertape: hypergradient(problem, lambda, options): options is ${kindOf(opts)}; ` +
      `pass e.g. { method: 'krmd', K: 5 } (methods: ${METHODS.join(', ')}).`);
  }
  const { T } = problem;
  if (!Number.isInteger(T) || T < 1) throw new Error(`hypertape: the horizon T must be an integer >= 1, got ${T}`);
  const fields = { init: 'Xi_0(lambda), the initial inner state', step: 'Xi_{t+1}(w_t, lambda, t), one inner step', outer: 'f(w_T, lambda), the outer objective' } as const;
  for (const [k, meaning] of Object.entries(fields)) {
    const f = (problem as unknown as Record<string, unknown>)[k];
    if (typeof f !== 'function') throw new Error(`hypertape: problem.${k} must be a function ${meaning}; got ${kindOf(f)}.`);
  }
  if (problem.inner !== undefined && typeof problem.inner !== 'function') {
    throw new Error(`hypertape: problem.inner must be a function g(w, lambda) (the inner loss) or left out; got ${kindOf(problem.inner)}.`);
  }
  if (!METHODS.includes(opts.method)) throw new Error(`hypertape: unknown method '${String(opts.method)}'; use one of ${METHODS.join(', ')}`);
  const K = opts.K;
  if (opts.method === 'krmd' && K === undefined) throw new Error('hypertape: krmd needs K, the number of steps to back-propagate (1 <= K <= T)');
  if (K !== undefined && (opts.method === 'krmd' || opts.method === 'checkpoint') && (!Number.isInteger(K) || K < 1 || K > T)) {
    throw new Error(`hypertape: ${opts.method} needs 1 <= K <= T = ${T}, got K = ${K}`);
  }
  if ((opts.method === 'cg' || opts.method === 'neumann')) {
    if (K === undefined || !Number.isInteger(K) || K < 1) throw new Error(`hypertape: ${opts.method} needs K >= 1 iterations, got ${K}`);
    if (!problem.inner) throw new Error(`hypertape: ${opts.method} (implicit differentiation, eq. 11) needs problem.inner, the inner loss g(w, lambda)`);
    const gamma = opts.gamma ?? problem.gamma;
    if (opts.method === 'neumann' && !(typeof gamma === 'number' && Number.isFinite(gamma) && gamma > 0)) {
      throw new Error(`hypertape: neumann needs the inner step size gamma > 0 (options.gamma or problem.gamma), got ${gamma}`);
    }
  }
  if (opts.every !== undefined && (!Number.isInteger(opts.every) || opts.every < 1)) throw new Error(`hypertape: checkpoint interval 'every' must be a positive integer, got ${opts.every}`);
  if (opts.chunk !== undefined && (!Number.isInteger(opts.chunk) || opts.chunk < 1)) throw new Error(`hypertape: fmd chunk must be a positive integer, got ${opts.chunk}`);
  checkTree('lambda', lambda, 'the hyperparameters');
  const leaves = tensorsIn(lambda);
  for (const l of leaves) {
    if (l.disposed) throw new Error(`hypertape: lambda contains a disposed tensor ${l.describe()}`);
    if (l.dtype !== 'f32') throw new Error(`hypertape: hyperparameters must be f32 tensors, got ${l.describe()}`);
  }
  if (problem.lambdaShapes) {
    const want = problem.lambdaShapes;
    const ok = want.length === leaves.length && want.every((s, i) => s.length === leaves[i]!.rank && s.every((d, j) => d === leaves[i]!.shape[j]));
    if (!ok) {
      throw new Error(`hypertape: lambda does not match the problem: it holds tensors of shapes ${shapesOf(leaves)}, ` +
        `the problem uses ${want.map(shapeStr).join(', ')}`);
    }
  }
}

/** Throws unless `next` holds as many tensors as `prev`, with the same shapes. */
function checkSameState(what: string, prev: unknown, next: unknown): void {
  const a = tensorsIn(prev);
  const b = tensorsIn(next);
  if (a.length !== b.length || a.some((t, i) => t.rank !== b[i]!.rank || t.shape.some((d, j) => d !== b[i]!.shape[j]))) {
    throw new Error(`hypertape: ${what} returned a state of ${b.length} tensor(s) (${shapesOf(b)}), but was given ${a.length} (${shapesOf(a)}); ` +
      'a step must return the inner state in the same structure and shapes as Xi_0 (problem.init).');
  }
}

/**
 * The problem with its functions wrapped so that what they return is checked as they run: Xi_0
 * and every step must return a state (a tree of tensors; a step keeps the shapes it was given),
 * f and g a one-element tensor.
 */
export function checkedProblem<S extends Tree, L extends Tree>(problem: BilevelProblem<S, L>): BilevelProblem<S, L> {
  const scalar = (what: string, y: unknown): Tensor => {
    if (!(y instanceof Tensor) || y.size !== 1) throw new Error(`hypertape: ${what} must return a one-element tensor; got ${kindOf(y)}.`);
    return y;
  };
  const inner = problem.inner;
  return {
    ...problem,
    init: (lambda) => {
      const w0 = problem.init(lambda);
      checkTree('problem.init(lambda) (Xi_0)', w0, 'the initial inner state w_0');
      return w0;
    },
    step: (state, lambda, t) => {
      const what = `problem.step (Xi_{t+1}) at t = ${t}`;
      const next = problem.step(state, lambda, t);
      checkTree(`the value of ${what}`, next, `the inner state w_${t + 1}`);
      checkSameState(what, state, next);
      return next;
    },
    outer: (state, lambda) => scalar('problem.outer (f(w_T, lambda))', problem.outer(state, lambda)),
    inner: inner && ((w, lambda) => scalar('problem.inner (g(w, lambda))', inner(w, lambda))),
  };
}
