// The functional API: grad, valueAndGrad, vjp (reverse mode), jvp and jvpBatch (forward mode
// with one or N tangents), hvp (second order). Arguments may be tensors or nested arrays and
// plain objects of tensors; gradients come back in the same structure.
import { Tensor, tensorsIn, tidy, tidyPending, type Shape } from '../tensor.js';
import { record, type Primitive } from '../ops/core.js';
import { zeros } from '../ops/create.js';
import { Tape } from './tape.js';
import { checkTangentShape, withForwardLevel } from './trace.js';

/** Rebuilds `structure` with every tensor replaced by fn(tensor, index-in-tensorsIn-order). */
export function mapStructure<T>(structure: T, fn: (t: Tensor, i: number) => Tensor): T {
  let i = 0;
  const walk = (v: unknown): unknown => {
    if (v instanceof Tensor) return fn(v, i++);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(structure) as T;
}

/** Options of {@link grad} and {@link valueAndGrad}. */
export interface GradOptions {
  /** Which arguments to differentiate: an index (default 0) or a list of indices. */
  argnums?: number | number[];
}

/** What {@link grad} returns: the gradient with the structure of the argument it is taken with respect to, or a list of them for a list of `argnums`. */
export type Grads<A extends any[], O extends GradOptions | undefined> = O extends {
  /** A list of argument indices. */
  argnums: number[];
} ? unknown[] : A[0];

function selectArgs(args: unknown[], argnums: number | number[]): unknown {
  if (Array.isArray(argnums)) return argnums.map((i) => args[i]);
  return args[argnums];
}

function checkScalar(what: string, y: unknown): Tensor {
  if (!(y instanceof Tensor)) throw new Error(`hypertape: ${what}: the function must return a Tensor, got ${typeof y}`);
  if (y.size !== 1) {
    throw new Error(`hypertape: ${what}: the function returned ${y.describe()}, not a scalar; use vjp() with a cotangent for non-scalar outputs.`);
  }
  return y;
}

/** What the function made by {@link valueAndGrad} returns. */
export interface ValueAndGrad<G> {
  /** f(...args), a scalar tensor. */
  value: Tensor;
  /** df/dargs[argnums], with the structure of those arguments. */
  grads: G;
}

/**
 * valueAndGrad(f)(...args) = { value: f(...args), grads: df/dargs[argnums] }, f scalar-valued.
 * Under an enclosing tape or jvp the gradient is itself differentiable.
 */
export function valueAndGrad<A extends any[], O extends GradOptions | undefined = undefined>(
  f: (...args: A) => Tensor,
  opts?: O,
): (...args: A) => ValueAndGrad<Grads<A, O>> {
  return valueAndGradOf(f, opts, true);
}

/**
 * valueAndGrad, with the value computed (`realiseValue`) or left pending: grad() drops the value
 * unread, so that the forward pass computes only what the gradient needs (a loss's own
 * reductions, for one, are never computed).
 */
function valueAndGradOf<A extends any[], O extends GradOptions | undefined>(
  f: (...args: A) => Tensor,
  opts: O | undefined,
  realiseValue: boolean,
): (...args: A) => ValueAndGrad<Grads<A, O>> {
  const argnums = opts?.argnums ?? 0;
  return (...given: A) => {
    const nums = Array.isArray(argnums) ? argnums : [argnums];
    for (const i of nums) {
      if (!Number.isInteger(i) || i < 0 || i >= given.length) {
        throw new Error(`hypertape: grad: argnums ${JSON.stringify(argnums)} names argument ${i}, but the function was called with ${given.length} argument(s)`);
      }
    }
    // One tensor passed in several places: each differentiated place is an input of its own.
    const { args, aliases } = separateSlots(given, new Set(nums));
    const wrt = selectArgs(args, argnums);
    const leaves = tensorsIn(wrt);
    if (leaves.length === 0) throw new Error('hypertape: grad: the differentiated arguments contain no tensors');
    for (const l of leaves) {
      if (l.dtype !== 'f32') throw new Error(`hypertape: grad: cannot differentiate with respect to ${l.describe()} (only f32 tensors)`);
    }
    const tape = new Tape({ name: 'grad tape' });
    let value: Tensor | undefined;
    try {
      tape.watch(...leaves);
      // f's intermediates are internal: tidy frees them (a tape that needs them holds its own refs).
      // f's result may stay pending (its graph holds what it reads); it is computed below if kept.
      value = checkScalar('grad', tape.run(() => tidyPending(() => f(...(args as A)))));
      const gs = tape.isTracked(value) ? tape.gradient(value, leaves) : leaves.map((l) => zeros(l.shape));
      if (realiseValue) value.realise();
      return { value, grads: mapStructure(wrt, (_, i) => gs[i]!) as Grads<A, O> };
    } finally {
      tape.dispose();
      for (const a of aliases) if (a !== value) a.dispose();
    }
  };
}

// An identity op: a new value equal to its input, recorded on the tapes and forward levels that
// track the input (so an outer tape or jvp still sees through it). jvp uses it for the dual
// inputs and its tangent output; grad and vjp for tensors passed in several argument slots.
const identityP: Primitive<null> = {
  name: 'identity',
  saves: { inputs: [], output: false },
  vjp: (g) => [g],
  jvp: ([dx]) => dx,
};

/** A new value (own id, same buffer) equal to `t`, connected to whatever tracks `t`. */
function identity(t: Tensor): Tensor {
  return record(identityP, [t], t.untracedView(t.shape), null);
}

/**
 * JAX's rule for a tensor that appears in several argument places (f(x, x), or [x, x] inside
 * one argument): each place is a separate input with its own partial derivative. Within the
 * arguments listed in `differentiated`, every tensor that occurs more than once anywhere in
 * `args` is replaced by a fresh identity alias, so a tape tells the places apart; places outside
 * `differentiated` keep the original tensor and are constants. Returns the new arguments and the
 * aliases made (the caller disposes them).
 */
export function separateSlots(args: readonly unknown[], differentiated: ReadonlySet<number>): { args: unknown[]; aliases: Tensor[] } {
  const count = new Map<number, number>();
  for (const t of tensorsIn(args)) count.set(t.id, (count.get(t.id) ?? 0) + 1);
  const aliases: Tensor[] = [];
  if (![...count.values()].some((n) => n > 1)) return { args: [...args], aliases };
  const out = args.map((a, i) => (differentiated.has(i)
    ? mapStructure(a, (t) => {
        if (count.get(t.id)! < 2) return t;
        const alias = identity(t);
        aliases.push(alias);
        return alias;
      })
    : a));
  return { args: out, aliases };
}

/** grad(f)(...args): the gradient of scalar f with respect to args[argnums]. */
export function grad<A extends any[], O extends GradOptions | undefined = undefined>(f: (...args: A) => Tensor, opts?: O): (...args: A) => Grads<A, O> {
  const vg = valueAndGradOf(f, opts, false);
  return (...args: A) => {
    const { value, grads } = vg(...args);
    value.dispose();
    return grads;
  };
}

/** What {@link vjp} returns. */
export interface VjpResult<A extends any[]> {
  /** f(...primals). */
  out: Tensor;
  /** The cotangent of every primal (same structure as the primals) given the cotangent of `out`. */
  pullback: (cotangent: Tensor, opts?: {
    /** Keep the tape for another pullback (then call `dispose()`); by default the first pullback frees it. */
    retain?: boolean;
  }) => A;
  /** Frees the tape, for a pullback kept with `retain` or never called. */
  dispose: () => void;
}

/**
 * vjp(f, ...primals) = { out, pullback }: pullback(cotangent) returns the cotangent of every
 * primal (same structure as the primals). The tape is freed after the first pullback unless
 * `retain` is set (then call dispose()).
 */
export function vjp<A extends any[]>(
  f: (...args: A) => Tensor,
  ...given: A
): VjpResult<A> {
  // One tensor passed in several places: each place gets its own cotangent.
  const { args, aliases } = separateSlots(given, new Set(given.keys()));
  const primals = args as A;
  const leaves = tensorsIn(primals);
  const tape = new Tape({ name: 'vjp tape' });
  let out: Tensor;
  const release = () => {
    tape.dispose();
    for (const a of aliases) if (a !== out) a.dispose();
  };
  try {
    tape.watch(...leaves);
    out = tape.run(() => tidy(() => f(...primals)));
    if (!(out instanceof Tensor)) throw new Error('hypertape: vjp: the function must return a Tensor');
  } catch (e) {
    release();
    throw e;
  }
  const pullback = (cotangent: Tensor, opts: { retain?: boolean } = {}): A => {
    try {
      const gs = tape.isTracked(out)
        ? tape.gradient(out, leaves, { seed: cotangent })
        : leaves.map((l) => zeros(l.shape));
      return mapStructure(primals, (_, i) => gs[i]!);
    } finally {
      if (!opts.retain) release();
    }
  };
  return { out, pullback, dispose: release };
}

function runForward<A extends any[]>(what: string, f: (...args: A) => Tensor, primals: A, tangents: unknown, batch: number[]): { out: Tensor; tangent: Tensor } {
  const ps = tensorsIn(primals);
  const ts = tensorsIn(tangents);
  if (ps.length !== ts.length) throw new Error(`hypertape: ${what}: ${ps.length} primal tensors but ${ts.length} tangents`);
  ps.forEach((p, i) => checkTangentShape(what, p, ts[i]!, batch));
  return withForwardLevel(batch, ({ level }) => {
    const duals = ps.map((p, i) => {
      const d = identity(p);
      d.setTangent(level, ts[i]!);
      return d;
    });
    const args = mapStructure(primals, (_, i) => duals[i]!);
    const out = tidy(() => f(...args));
    if (!(out instanceof Tensor)) throw new Error(`hypertape: ${what}: the function must return a Tensor`);
    const t = out.takeTangent(level);
    const tangent = t ? identity(t) : zeros([...batch, ...out.shape]);
    t?.dispose();
    for (const d of duals) if (d !== out) d.dispose();
    return { out, tangent };
  });
}

/** What {@link jvp} and {@link jvpBatch} return. */
export interface JvpResult {
  /** f(...primals). */
  out: Tensor;
  /** The directional derivative of f along the tangents ([N, ...out.shape] for jvpBatch). */
  tangent: Tensor;
}

/** Forward mode: f(primals) and its directional derivative along `tangents` (same structure). */
export function jvp<A extends any[]>(f: (...args: A) => Tensor, primals: A, tangents: A): JvpResult {
  return runForward('jvp', f, primals, tangents, []);
}

/**
 * Forward mode with N tangents at once: every tangent has shape [N, ...primal.shape]; the result
 * tangent has shape [N, ...out.shape]. One pass with batched kernels instead of N passes.
 */
export function jvpBatch<A extends any[]>(f: (...args: A) => Tensor, primals: A, tangents: unknown, n: number): JvpResult {
  if (!Number.isInteger(n) || n < 1) throw new Error(`hypertape: jvpBatch: n must be a positive integer, got ${n}`);
  return runForward('jvpBatch', f, primals, tangents, [n]);
}

/**
 * Hessian-vector product H(x) v of scalar f. Forward-over-reverse: one jvp through the gradient
 * computation, so one forward and one backward pass each carrying a tangent. That is cheaper than
 * reverse-over-reverse (grad of <grad f, v>), which records the whole backward pass on a second
 * tape, keeps its intermediates alive and walks it back again. On the hypercleaning loss
 * (bench/autodiff.ts) it runs the gradient's two large matmuls twice each: about 2 gradients.
 */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  checkTangentShape('hvp', x, v, []);
  const { out, tangent } = jvp((xx: Tensor) => grad(f)(xx), [x], [v]);
  out.dispose();
  return tangent;
}

export type { Shape };
