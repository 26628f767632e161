// Hypergradient methods (paper section 2.2, Table 1, and section 3):
//   rmd         full reverse mode through all T steps and Xi_0 (eq. 6); memory O(T) steps
//   krmd        reverse mode through the last K steps only, returning h_{T-K} (eq. 8); memory O(K)
//   checkpoint  full RMD (or K-RMD) keeping every c-th iterate and recomputing segments; O(sqrt T)
//   fmd         forward mode, Z_{t+1} = Z_t A_{t+1} + B_{t+1} (eq. 7), N directions in chunks
//   cg/neumann  implicit differentiation at w_T (eq. 11), K iterations / K Neumann terms
// Every method runs on the GPU with no readback inside its loops; one readback fetches f.
// The math of each method: docs/methods.md section 1.
import { Tensor, dispose, tensorsIn, tidy } from '../tensor.js';
import { engine } from '../gpu/device.js';
import { Tape } from '../autodiff/tape.js';
import { hvp, jvpBatch } from '../autodiff/api.js';
import { add, div, mul, notEqual, sub, where } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { concat, oneHot, reshape, slice, stack } from '../ops/shape.js';
import { arange, zeros } from '../ops/create.js';
import { flattenTree, type BilevelProblem, type Tree } from './problem.js';
import { innerGradient } from './inner.js';
import { checkedProblem, validate } from './validate.js';
import { separateSlots } from '../autodiff/api.js';

export { validate };

/**
 * A hypergradient method: `rmd` (exact, reverse mode through all T steps, eq. 6), `krmd`
 * (K-step truncated back-propagation, h_{T-K}, eq. 8), `checkpoint` (exact or K-step, keeping
 * every `every`-th iterate and recomputing segments), `fmd` (exact, forward mode, eq. 7), `cg`
 * and `neumann` (implicit differentiation at w_T, eq. 11).
 */
export type Method = 'rmd' | 'krmd' | 'checkpoint' | 'fmd' | 'cg' | 'neumann';

/** Options of {@link hypergradient}: the method and its parameters. */
export interface HypergradientOptions {
  /** Which method computes the hypergradient (see {@link Method}). */
  method: Method;
  /** krmd: truncation depth (1..T); checkpoint: optional truncation too; cg/neumann: iterations. */
  K?: number;
  /** checkpoint: keep every `every`-th iterate (default ceil(sqrt T)). */
  every?: number;
  /** fmd: hyperparameter directions per forward pass (default: all, at most 64). */
  chunk?: number;
  /** neumann: the inner step size gamma (defaults to problem.gamma). */
  gamma?: number;
}

/** What a {@link hypergradient} call cost. */
export interface HypergradientStats {
  /** Wall time of the call, GPU work included. */
  ms: number;
  /** Peak live bytes during the call above what was live when it began. */
  peakBytes: number;
  /** Peak live bytes during the call, everything counted. */
  peakBytesTotal: number;
  /** Compute dispatches (kernel launches) issued by the call. */
  dispatches: number;
  /** Second-order products: step VJPs (reverse), step JVPs x directions (forward), Hessian-vector products (implicit). */
  hvps: number;
  /** Transfers from the GPU to the CPU during the call (1: the value of f). */
  readbacks: number;
}

/** What {@link hypergradient} returns. */
export interface HypergradientResult<L extends Tree> {
  /** The outer objective f(w_T, lambda). */
  value: number;
  /** The (approximate) hypergradient, same structure as lambda. */
  grad: L;
  /** Time, memory and work of the call. */
  stats: HypergradientStats;
}

/**
 * f and a finiteness probe of every gradient leaf (sum(x * 0) is NaN iff x holds NaN or inf),
 * fetched in one readback: the only one of a hypergradient call.
 */
async function readValueAndCheck(f: Tensor, h: Tensor[]): Promise<{ value: number; finite: boolean }> {
  const probe = tidy(() => stack([reshape(f, []), ...h.map((x) => sum(mul(x, 0)))]));
  const d = await probe.data();
  probe.dispose();
  return { value: d[0]!, finite: Array.from(d).every(Number.isFinite) };
}

// Calls run one at a time: the call in flight, if any (see hypergradient()).
let inFlight: Promise<unknown> | null = null;

/**
 * Computes the hypergradient d_lambda f of `problem` at `lambda` by `options.method`.
 * The caller owns the returned gradient tensors. A tensor that appears twice in lambda
 * ({ a: t, b: t }) is two hyperparameters, each with its own partial derivative. Calls that
 * overlap (several started before the first resolves, as with Promise.all) run one after the
 * other, so that each call's `stats` count its own work only; a call with none in flight starts
 * its GPU work before it returns its promise.
 *
 * @param problem The bilevel problem: horizon T, Xi_0 (`init`), Xi_{t+1} (`step`), f (`outer`),
 *   and g (`inner`) for the implicit methods.
 * @param lambda The hyperparameters: a tensor, or arrays and plain objects of tensors.
 * @param options `method`: 'rmd' | 'krmd' | 'checkpoint' | 'fmd' | 'cg' | 'neumann'; `K`: the
 *   truncation depth of krmd (1..T, optional for checkpoint) or the iterations of cg and neumann;
 *   `every`: checkpoint's interval (default ceil(sqrt T)); `chunk`: fmd's directions per pass;
 *   `gamma`: neumann's inner step size (default problem.gamma).
 * @returns `value`: f(w_T, lambda); `grad`: the hypergradient, shaped like lambda; `stats`: wall
 *   time, peak GPU bytes, dispatches, second-order products and readbacks of the call.
 *
 * @example
 * ```ts
 * const { value, grad, stats } = await hypergradient(problem, lambda, { method: 'krmd', K: 5 });
 * ```
 */
export function hypergradient<S extends Tree, L extends Tree>(
  problem: BilevelProblem<S, L>,
  lambda: L,
  options: HypergradientOptions,
): Promise<HypergradientResult<L>> {
  const start = () => computeHypergradient(problem, lambda, options);
  const run = inFlight ? inFlight.then(start, start) : start();
  const settled = run.then(() => undefined, () => undefined);
  inFlight = settled;
  void settled.then(() => {
    if (inFlight === settled) inFlight = null;
  });
  return run;
}

async function computeHypergradient<S extends Tree, L extends Tree>(
  problem: BilevelProblem<S, L>,
  given: L,
  options: HypergradientOptions,
): Promise<HypergradientResult<L>> {
  validate(problem, given, options);
  const checked = checkedProblem(problem);
  const e = engine();
  const before = e.memory();
  e.resetPeak();
  const t0 = performance.now();
  const counter = { hvps: 0 };
  // One tensor in several places of lambda: each place is a hyperparameter of its own.
  const { args: [lambda], aliases } = separateSlots([given], new Set([0])) as { args: [L]; aliases: Tensor[] };
  const { leaves: lam, rebuild: asLambda } = flattenTree(lambda);
  let out: { f: Tensor; h: Tensor[] };
  try {
    // tidy: on an error every tensor made inside is freed, so a throwing step leaks nothing.
    out = tidy(() => {
      switch (options.method) {
        case 'rmd':
          return reverse(checked, lam, asLambda, problem.T, problem.T, counter);
        case 'krmd':
          return reverse(checked, lam, asLambda, options.K!, options.K!, counter);
        case 'checkpoint': {
          const K = options.K ?? problem.T;
          const every = options.every ?? Math.max(1, Math.ceil(Math.sqrt(K)));
          return reverse(checked, lam, asLambda, K, every, counter);
        }
        case 'fmd':
          return forwardMode(checked, lam, asLambda, options.chunk, counter);
        case 'cg':
        case 'neumann':
          return implicit(checked, lam, asLambda, options, counter);
      }
    });
  } finally {
    dispose(aliases);
  }
  let value: number;
  let finite: boolean;
  try {
    ({ value, finite } = await readValueAndCheck(out.f, out.h));
  } catch (err) {
    dispose(out.h);
    throw err;
  } finally {
    out.f.dispose();
  }
  const mem = e.memory();
  const stats: HypergradientStats = {
    ms: performance.now() - t0,
    peakBytes: mem.peakBytes - before.liveBytes,
    peakBytesTotal: mem.peakBytes,
    dispatches: mem.dispatches - before.dispatches,
    hvps: counter.hvps,
    readbacks: mem.readbacks - before.readbacks,
  };
  if (!finite) {
    dispose(out.h);
    const where = await locateNonFinite(checked, given);
    throw new Error(`hypertape: the hypergradient (${options.method}) is not finite (f = ${value}): ${where}`);
  }
  const grad = flattenTree(given).rebuild(out.h);
  return { value, grad, stats };
}

// ---- the inner iteration --------------------------------------------------------------------

/** w_{t1} from w_{t0} by plain forward steps (eq. 4), no tape; disposes intermediate iterates. */
function runSteps<S extends Tree, L extends Tree>(problem: BilevelProblem<S, L>, state: S, lambda: L, t0: number, t1: number, keepStart: boolean, onState?: (t: number, s: S) => void): S {
  let w = state;
  for (let t = t0; t < t1; t++) {
    const prev = w;
    w = tidy(() => problem.step(prev, lambda, t));
    onState?.(t + 1, w);
    if (t > t0 || !keepStart) dispose(prev);
  }
  return w;
}

// ---- reverse mode: rmd, krmd, checkpoint ------------------------------------------------------

/**
 * Reverse mode over the last K steps (K = T: all of them and Xi_0) with the steps split into
 * segments of `every` steps. Each segment is recorded on a fresh tape from its first iterate and
 * walked back in one backward pass, which performs eq. 6 step by step:
 *   h_{t-1} = h_t + B_t alpha_t,  alpha_{t-1} = A_t alpha_t.
 * With one segment (every = K) this is plain RMD / K-RMD; with every ~ sqrt(K) it is checkpointed
 * RMD: only the segment starts are kept, and each segment is recomputed when it is walked back.
 */
function reverse<S extends Tree, L extends Tree>(
  problem: BilevelProblem<S, L>,
  lam: Tensor[],
  asLambda: (xs: readonly Tensor[]) => L,
  K: number,
  every: number,
  counter: { hvps: number },
): { f: Tensor; h: Tensor[] } {
  const T = problem.T;
  const full = K === T; // walks back through Xi_0 too: h_{-1} (B_0 included)
  const start = T - K; // first iterate of the window
  // Forward: iterates before the window need no tape (eq. 8: they are never walked back).
  // Segment starts inside the window are kept as checkpoints.
  const segStarts: number[] = [];
  for (let s = start; s < T; s += every) segStarts.push(s);
  const checkpoints = new Map<number, S>();
  try {
    return reverseSegments(problem, lam, asLambda, full, segStarts, checkpoints, counter);
  } finally {
    // Normally empty by now; after an error it holds checkpoints that the caller's tidy() cannot
    // free (holdTree's extra handles are untracked).
    for (const c of checkpoints.values()) dispose(c);
  }
}

/** The body of reverse(): fills `checkpoints` on the way forward and empties it on the way back. */
function reverseSegments<S extends Tree, L extends Tree>(
  problem: BilevelProblem<S, L>,
  lam: Tensor[],
  asLambda: (xs: readonly Tensor[]) => L,
  full: boolean,
  segStarts: number[],
  checkpoints: Map<number, S>,
  counter: { hvps: number },
): { f: Tensor; h: Tensor[] } {
  const T = problem.T;
  const start = segStarts[0]!;
  const lambda = asLambda(lam);
  if (!full || segStarts.length > 1) {
    const w0 = tidy(() => problem.init(lambda));
    const ws = runSteps(problem, w0, lambda, 0, start, false);
    checkpoints.set(start, ws);
    if (segStarts.length > 1) {
      const last = segStarts[segStarts.length - 1]!;
      const end = runSteps(problem, ws, lambda, start, last, true, (t, s) => {
        if (segStarts.includes(t) && t !== last) checkpoints.set(t, holdTree(s));
      });
      checkpoints.set(last, end);
    }
  }
  // Backward, last segment first. alpha holds the cotangent of the segment's end iterate.
  let h: Tensor[] | null = null;
  let alpha: Tensor[] | null = null;
  let f: Tensor | null = null;
  for (let i = segStarts.length - 1; i >= 0; i--) {
    const s0 = segStarts[i]!;
    const s1 = i + 1 < segStarts.length ? segStarts[i + 1]! : T;
    const fromInit = full && s0 === 0;
    const startState = fromInit ? null : checkpoints.get(s0)!;
    const tape = new Tape({ name: `steps ${s0 + 1}..${s1}` });
    try {
      tape.watch(...lam);
      const { leaves: w, rebuild } = startState ? flattenTree(startState) : { leaves: [] as Tensor[], rebuild: null };
      tape.watch(...w);
      const recorded = tape.run(() =>
        tidy(() => {
          let state: S = startState ? rebuild!(w) : problem.init(lambda);
          for (let t = s0; t < s1; t++) {
            state = problem.step(state, lambda, t);
            tape.markStep();
          }
          const end = tensorsIn(state);
          // The last segment ends with f, whose gradients seed eq. 6: alpha_T = grad_w f, h_T = grad_lambda f.
          return alpha === null ? { end, f: problem.outer(state, lambda) } : { end, f: null };
        }),
      );
      counter.hvps += s1 - s0;
      const sources = [...lam, ...w];
      const grads: Tensor[] = recorded.f
        ? tape.gradient(recorded.f, sources)
        : tape.gradient(recorded.end, sources, { seed: alpha! });
      if (recorded.f) f = recorded.f;
      const hSeg = grads.slice(0, lam.length);
      const alphaStart: Tensor[] = grads.slice(lam.length);
      if (h === null) h = hSeg;
      else {
        const prev: Tensor[] = h;
        h = tidy(() => prev.map((x, k) => add(x, hSeg[k]!)));
        dispose([prev, hSeg]);
      }
      dispose([alpha, recorded.end]);
      alpha = alphaStart;
    } finally {
      tape.dispose();
      dispose(checkpoints.get(s0));
      checkpoints.delete(s0);
    }
  }
  dispose(alpha);
  return { f: f!, h: h! };
}

/** A second handle on an iterate that runSteps will dispose, kept as a checkpoint. */
function holdTree<T extends Tree>(t: T): T {
  const { leaves, rebuild } = flattenTree(t);
  return rebuild(leaves.map((x) => x.ref()));
}

// ---- forward mode: fmd -------------------------------------------------------------------------

/**
 * FMD (eq. 7). The tangent carried by the iterate w_t through a forward pass is Z_t: Xi_0's JVP
 * gives Z_0 = B_0, each step's JVP gives Z_{t+1} = Z_t A_{t+1} + B_{t+1}, and f's JVP gives
 * Z_T grad_w f + grad_lambda f, i.e. d_lambda f along each direction. The N = |lambda|
 * directions (unit vectors) travel as one batch of tangents per chunk.
 */
function forwardMode<S extends Tree, L extends Tree>(
  problem: BilevelProblem<S, L>,
  lam: Tensor[],
  asLambda: (xs: readonly Tensor[]) => L,
  chunk: number | undefined,
  counter: { hvps: number },
): { f: Tensor; h: Tensor[] } {
  const sizes = lam.map((l) => l.size);
  const N = sizes.reduce((a, b) => a + b, 0);
  const n = Math.min(N, chunk ?? 64);
  const parts: Tensor[] = [];
  let f: Tensor | null = null;
  for (let j0 = 0; j0 < N; j0 += n) {
    const m = Math.min(n, N - j0);
    const res = tidy(() => {
      // E: directions j0..j0+m-1 of the flattened lambda (rows of the identity), split per leaf.
      const E = oneHot(arange(j0, j0 + m, 1, 'i32'), N); // [m, N]
      let offset = 0;
      const tangents = lam.map((l) => {
        const part = reshape(slice(E, [0, offset], [m, l.size]), [m, ...l.shape]);
        offset += l.size;
        return part;
      });
      const { out, tangent } = jvpBatch(
        (...ls: Tensor[]) => {
          const lambda = asLambda(ls);
          const w = runSteps(problem, tidy(() => problem.init(lambda)), lambda, 0, problem.T, false);
          const value = problem.outer(w, lambda);
          dispose(w);
          return value;
        },
        lam,
        tangents,
        m,
      );
      return { out, tangent: reshape(tangent, [m]) };
    });
    counter.hvps += problem.T * m;
    parts.push(res.tangent);
    if (f) res.out.dispose();
    else f = res.out;
  }
  // Reassemble the flat hypergradient and cut it back into lambda's leaves.
  const h = tidy(() => {
    const flat = parts.length === 1 ? parts[0]! : concat(parts, 0);
    let offset = 0;
    return lam.map((l) => {
      const piece = reshape(slice(flat, [offset], [l.size]), l.shape);
      offset += l.size;
      return piece;
    });
  });
  dispose(parts);
  return { f: f!, h };
}

// ---- implicit differentiation: cg, neumann -------------------------------------------------------

/**
 * Eq. 11 at w_T: d_lambda f = grad_lambda f - grad_{lambda w} g (grad_ww g)^{-1} grad_w f.
 * q ~ (grad_ww g)^{-1} grad_w f comes from K conjugate-gradient steps (cg) or the K-term Neumann
 * series gamma sum_{k<K} (I - gamma H)^k grad_w f (neumann; by Prop. 3.6 this equals K-RMD at a
 * fixed point). Then grad_{lambda w} g q = grad_lambda <grad_w g(w_T, lambda), q>.
 */
function implicit<S extends Tree, L extends Tree>(
  problem: BilevelProblem<S, L>,
  lam: Tensor[],
  asLambda: (xs: readonly Tensor[]) => L,
  opts: HypergradientOptions,
  counter: { hvps: number },
): { f: Tensor; h: Tensor[] } {
  const lambda = asLambda(lam);
  const g = problem.inner!;
  const K = opts.K!;
  const wT = runSteps(problem, tidy(() => problem.init(lambda)), lambda, 0, problem.T, false);
  const w = tensorsIn(wT)[0]!;
  // grad_w f and grad_lambda f at (w_T, lambda).
  const outerTape = new Tape({ name: 'outer f' });
  let f: Tensor;
  let gradW: Tensor;
  let gradLam: Tensor[];
  try {
    const wLeaves = tensorsIn(wT);
    outerTape.watch(...lam, ...wLeaves);
    f = outerTape.run(() => tidy(() => problem.outer(wT, lambda)));
    const gs = outerTape.gradient(f, [...lam, w]);
    gradLam = gs.slice(0, lam.length);
    gradW = gs[lam.length]!;
  } finally {
    outerTape.dispose();
  }
  const H = (v: Tensor): Tensor => {
    counter.hvps++;
    return hvp((ww) => g(ww, lambda), w, v);
  };
  const q = opts.method === 'cg' ? conjugateGradient(H, gradW, K) : neumannSeries(H, gradW, K, opts.gamma ?? problem.gamma!);
  // grad_{lambda w} g q: the gradient in lambda of <grad_w g(w_T, lambda), q>.
  const mixed = tidy(() => {
    const tape = new Tape({ name: 'mixed partials' });
    try {
      tape.watch(...lam);
      const inner = tape.run(() => sum(mul(innerGradient(g)(w, lambda), q)));
      return tape.isTracked(inner) ? tape.gradient(inner, lam) : lam.map((l) => zeros(l.shape));
    } finally {
      tape.dispose();
    }
  });
  const h = tidy(() => gradLam.map((gl, i) => sub(gl, mixed[i]!)));
  dispose([gradLam, gradW, q, mixed, wT]);
  return { f: f!, h };
}

/** K steps of conjugate gradient for H q = b, starting from q = 0 (all on the GPU). */
function conjugateGradient(H: (v: Tensor) => Tensor, b: Tensor, K: number): Tensor {
  let q = zeros(b.shape);
  let r = tidy(() => mul(b, 1));
  let p = tidy(() => mul(b, 1));
  let rr = tidy(() => sum(mul(r, r)));
  for (let k = 0; k < K; k++) {
    const next = tidy(() => {
      const Hp = H(p);
      const pHp = sum(mul(p, Hp));
      // A zero residual would make pHp 0; the guard keeps the step at 0 instead of NaN.
      const a = divSafe(rr, pHp);
      const q1 = add(q, mul(p, a));
      const r1 = sub(r, mul(Hp, a));
      const rr1 = sum(mul(r1, r1));
      const p1 = add(r1, mul(p, divSafe(rr1, rr)));
      return { q1, r1, rr1, p1 };
    });
    dispose([q, r, p, rr]);
    ({ q1: q, r1: r, rr1: rr, p1: p } = next);
  }
  dispose([r, p, rr]);
  return q;
}

function divSafe(a: Tensor, b: Tensor): Tensor {
  const nz = notEqual(b, 0);
  return where(nz, div(a, where(nz, b, 1)), 0);
}

/** gamma sum_{k<K} (I - gamma H)^k b. */
function neumannSeries(H: (v: Tensor) => Tensor, b: Tensor, K: number, gamma: number): Tensor {
  let term = tidy(() => mul(b, 1));
  let acc = tidy(() => mul(b, 1));
  for (let k = 1; k < K; k++) {
    const next = tidy(() => sub(term, mul(H(term), gamma)));
    term.dispose();
    term = next;
    const a = tidy(() => add(acc, term));
    acc.dispose();
    acc = a;
  }
  term.dispose();
  const q = tidy(() => mul(acc, gamma));
  acc.dispose();
  return q;
}

// ---- diagnosis of non-finite results -------------------------------------------------------------

async function allFinite(ts: Tensor[]): Promise<boolean> {
  const probe = tidy(() => stack(ts.map((x) => sum(mul(x, 0)))));
  const d = await probe.data();
  probe.dispose();
  return Array.from(d).every(Number.isFinite);
}

/** Reruns the computation step by step with readbacks to say where it first went non-finite. */
async function locateNonFinite<S extends Tree, L extends Tree>(problem: BilevelProblem<S, L>, lambda: L): Promise<string> {
  const lamLeaves = tensorsIn(lambda);
  if (!(await allFinite(lamLeaves))) return 'lambda itself holds NaN or infinite values';
  let w = tidy(() => problem.init(lambda));
  if (!(await allFinite(tensorsIn(w)))) {
    dispose(w);
    return 'the initial state Xi_0(lambda) is not finite';
  }
  for (let t = 0; t < problem.T; t++) {
    const prev = w;
    w = tidy(() => problem.step(prev, lambda, t));
    dispose(prev);
    if (!(await allFinite(tensorsIn(w)))) {
      dispose(w);
      return `the inner iterate w_${t + 1} first went non-finite at step t = ${t + 1} of the forward pass (eq. 4); try a smaller inner step size`;
    }
  }
  const f = tidy(() => problem.outer(w, lambda));
  const fv = await f.item();
  dispose([w, f]);
  if (!Number.isFinite(fv)) return `the forward pass stayed finite but f(w_T, lambda) = ${fv}`;
  return 'the forward pass and f stayed finite; the backward pass (eq. 6) produced the non-finite values';
}
