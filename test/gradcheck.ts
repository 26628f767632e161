// A reusable derivative checker in the style of HIPS autograd's check_grads: for a function of
// tensors it compares forward mode, reverse mode and finite differences along random directions,
// and optionally does the same for the function's own VJP (second order).
//
// For random directions v (one per argument, entries uniform in [-1, 1]) and a random output
// cotangent u:
//  - dot-product test: <u, J v> from jvp equals <J^T u, v> from vjp, to 1e-5 of the sum of the
//    absolute terms of both inner products (the two sides differ by f32 rounding only, which
//    measured below 1e-7 of that sum on the rules in test/rules.test.ts);
//  - finite differences: both equal the directional derivative of <u, f(x + h v)> at h = 0,
//    estimated by central differences with Richardson extrapolation,
//    D(h) = (<u, f(x+hv)> - <u, f(x-hv)>) / 2h,  FD = (4 D(h/2) - D(h)) / 3,
//    whose truncation error is O(h^4). The step h = 1e-2 balances that against f32 rounding:
//    each output of f carries a few ulps of error, which the differences amplify by ~3/h, so the
//    tolerance is rtol * |AD| + 3 * ulps * 2^-24 * sum_i |u_i| |f_i(x)| / h, with rtol = 3e-4
//    and ulps = 8 by default (a rule off by 0.2% fails);
//  - batched forward mode: jvpBatch with N stacked directions equals N single jvp calls.
// With order 2 the same checks run on x -> sum_i <w_i, (J^T u)_i>, the VJP itself, for fixed
// random u and w: that differentiates every VJP rule once more (reverse-over-reverse, and
// forward-over-reverse through jvp); and on x -> <u, J v>, the JVP itself, which differentiates
// every JVP rule once more (reverse-over-forward and forward-over-forward).
import { Tensor, tensor, jvp, jvpBatch, vjp, sum, mul, add, dispose, tidy, type Shape } from '../src/node.js';
import { rng } from './helpers.js';

const EPS32 = 2 ** -24;

export interface GradCheckOptions {
  /** Finite-difference step along directions with entries in [-1, 1] (default 1e-2). */
  step?: number;
  /** Relative tolerance of AD against finite differences, on top of the rounding allowance (default 3e-4). */
  rtol?: number;
  /** f32 rounding error, in ulps of each output, allowed in f(x +- h v) (default 8). */
  ulps?: number;
  /** Tolerance of the dot-product test relative to the sum of absolute terms (default 1e-5). */
  dotRtol?: number;
  /** Directions for the jvpBatch check; 0 skips it (default 3). */
  batch?: number;
  /** 2 also checks the derivatives of the VJP (default 1). */
  order?: 1 | 2;
  /** Seed of the random directions. */
  seed?: number;
  /** Names the function in failure messages. */
  name?: string;
  /**
   * For a scalar f that sums terms which cancel: the sum of the terms' absolute values at the
   * point, the scale of f's rounding error (|f| underestimates it). Default: |f| itself.
   */
  termScale?: number;
}

export interface GradCheckReport {
  name: string;
  /** <u, J v> by jvp. */
  forward: number;
  /** <J^T u, v> by vjp. */
  reverse: number;
  /** The finite-difference estimate of <u, J v>. */
  finiteDiff: number;
  /** Tolerance used against finiteDiff. */
  fdTol: number;
  /** Tolerance used in the dot-product test. */
  dotTol: number;
  /** The check of the VJP, when order = 2. */
  second?: GradCheckReport;
  /** The check of the JVP, when order = 2. */
  secondForward?: GradCheckReport;
}

type Fn = (...xs: Tensor[]) => Tensor;

async function f64(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data());
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function absDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! * b[i]!);
  return s;
}

function randomValues(n: number, next: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * next() - 1;
  return out;
}

function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fail(name: string, msg: string): never {
  throw new Error(`gradcheck ${name}: ${msg}`);
}

/** Runs f with tensors that it may keep, returning its output's values and disposing everything. */
async function evaluate(f: Fn, xs: Float64Array[], shapes: Shape[]): Promise<Float64Array> {
  const ts = xs.map((x, i) => tensor(Float32Array.from(x), shapes[i]));
  const y = f(...ts);
  const v = await f64(y);
  dispose([y, ts]);
  return v;
}

/** Checks f's JVP and VJP at `args` against each other and finite differences; throws on a mismatch. */
export async function checkGrads(fn: Fn, args: Tensor[], opts: GradCheckOptions = {}): Promise<GradCheckReport> {
  // Temporaries are freed as they would be in user code; autodiff must keep what it needs.
  const f: Fn = (...xs) => tidy(() => fn(...xs));
  const name = opts.name ?? 'f';
  const h = opts.step ?? 1e-2;
  const rtol = opts.rtol ?? 3e-4;
  const ulps = opts.ulps ?? 8;
  const dotRtol = opts.dotRtol ?? 1e-5;
  const nBatch = opts.batch ?? 3;
  const next = rng(opts.seed ?? 1234);
  for (const a of args) if (a.dtype !== 'f32') fail(name, `argument ${a.describe()} is not f32; close over index tensors instead`);

  const shapes = args.map((a) => a.shape);
  const x = await Promise.all(args.map(f64));
  const v = shapes.map((s) => randomValues(sizeOf(s), next));
  const vT = v.map((d, i) => tensor(Float32Array.from(d), shapes[i]));

  const y0 = f(...args);
  const yShape = y0.shape;
  const y = await f64(y0);
  y0.dispose();
  const u = randomValues(y.length, next);
  const uT = tensor(Float32Array.from(u), yShape);

  // Forward mode.
  const fwd = jvp(f, args, vT);
  const fwdOut = await f64(fwd.out);
  const jv = await f64(fwd.tangent);
  dispose([fwd.out, fwd.tangent]);
  if (jv.length !== y.length) fail(name, `jvp tangent has ${jv.length} elements, the output ${y.length}`);
  for (let i = 0; i < y.length; i++) {
    if (!(Math.abs(fwdOut[i]! - y[i]!) <= 1e-6 * (1 + Math.abs(y[i]!)))) fail(name, `jvp's primal output ${fwdOut[i]} differs from f's ${y[i]} at ${i}`);
  }
  const forward = dot(u, jv);

  // Reverse mode.
  const rev = vjp(f, ...args);
  const cts = rev.pullback(uT);
  rev.out.dispose();
  const ct = await Promise.all(cts.map(f64));
  dispose(cts);
  const reverse = ct.reduce((acc, c, i) => acc + dot(c, v[i]!), 0);

  const dotScale = absDot(u, jv) + ct.reduce((acc, c, i) => acc + absDot(c, v[i]!), 0);
  const dotTol = dotRtol * dotScale + 1e-30;
  if (!(Math.abs(forward - reverse) <= dotTol)) {
    fail(name, `dot-product test: <u, J v> = ${forward} (jvp) but <J^T u, v> = ${reverse} (vjp); |diff| ${Math.abs(forward - reverse)} > ${dotTol}`);
  }

  // Central differences with one Richardson step.
  const along = async (s: number): Promise<number> => dot(u, await evaluate(f, x.map((xi, i) => xi.map((e, j) => e + s * v[i]![j]!)), shapes));
  const D = async (s: number): Promise<number> => ((await along(s)) - (await along(-s))) / (2 * s);
  const finiteDiff = (4 * (await D(h / 2)) - (await D(h))) / 3;
  const outScale = opts.termScale !== undefined && y.length === 1 ? Math.max(Math.abs(u[0]!) * opts.termScale, absDot(u, y.map(Math.abs))) : absDot(u, y.map(Math.abs));
  const noise = (3 * ulps * EPS32 * outScale) / h;
  for (const [mode, ad] of [['jvp', forward], ['vjp', reverse]] as const) {
    const tol = rtol * Math.max(Math.abs(ad), Math.abs(finiteDiff)) + noise;
    if (!(Math.abs(ad - finiteDiff) <= tol)) {
      fail(name, `${mode} gives ${ad} along a random direction, finite differences ${finiteDiff} (step ${h}); |diff| ${Math.abs(ad - finiteDiff)} > ${tol}`);
    }
  }

  // N directions at once against N single calls.
  if (nBatch > 0) {
    const vs = shapes.map((s) => randomValues(nBatch * sizeOf(s), next));
    const vsT = vs.map((d, i) => tensor(Float32Array.from(d), [nBatch, ...shapes[i]!]));
    const batched = jvpBatch(f, args, vsT, nBatch);
    const bt = await f64(batched.tangent);
    if (batched.tangent.rank !== yShape.length + 1 || batched.tangent.shape[0] !== nBatch || yShape.some((d, i) => batched.tangent.shape[i + 1] !== d)) {
      fail(name, `jvpBatch tangent has shape [${batched.tangent.shape}], expected [${[nBatch, ...yShape]}]`);
    }
    dispose([batched.out, batched.tangent, vsT]);
    for (let k = 0; k < nBatch; k++) {
      const vk = vs.map((d, i) => tensor(Float32Array.from(d.subarray(k * sizeOf(shapes[i]!), (k + 1) * sizeOf(shapes[i]!))), shapes[i]));
      const single = jvp(f, args, vk);
      const sk = await f64(single.tangent);
      dispose([single.out, single.tangent, vk]);
      const scale = sk.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
      for (let i = 0; i < sk.length; i++) {
        const b = bt[k * sk.length + i]!;
        if (!(Math.abs(b - sk[i]!) <= 1e-5 * scale + 1e-4 * Math.abs(sk[i]!) + 1e-30)) {
          fail(name, `jvpBatch direction ${k} element ${i} is ${b}, a single jvp gives ${sk[i]}`);
        }
      }
    }
  }

  dispose([vT, uT]);
  const fdTol = rtol * Math.max(Math.abs(forward), Math.abs(finiteDiff)) + noise;
  const report: GradCheckReport = { name, forward, reverse, finiteDiff, fdTol, dotTol };

  if ((opts.order ?? 1) >= 2) {
    // The VJP as a scalar function of the primals, for fixed u and w.
    const w = shapes.map((s) => tensor(Float32Array.from(randomValues(sizeOf(s), next)), s));
    const uFixed = tensor(Float32Array.from(u), yShape);
    const pulled: Fn = (...xs) => {
      const r = vjp(f, ...xs);
      const gs = r.pullback(uFixed);
      r.out.dispose();
      return gs.map((g, i) => sum(mul(g, w[i]!))).reduce((a, b) => add(a, b));
    };
    // The JVP as a scalar function of the primals, for fixed directions v and u.
    const vFixed = v.map((d, i) => tensor(Float32Array.from(d), shapes[i]));
    const pushed: Fn = (...xs) => sum(mul(jvp(f, xs, vFixed).tangent, uFixed));
    // Each is a sum of products whose terms may cancel: their absolute sum sets the rounding scale.
    const r0 = vjp(f, ...args);
    const g0 = await Promise.all(r0.pullback(uFixed).map(async (g) => {
      const vals = await f64(g);
      g.dispose();
      return vals;
    }));
    r0.out.dispose();
    const wV = await Promise.all(w.map(f64));
    const pulledScale = g0.reduce((acc, g, i) => acc + absDot(g, wV[i]!.map(Math.abs)), 0);
    const j0 = jvp(f, args, vFixed);
    const pushedScale = absDot(await f64(j0.tangent), u.map(Math.abs));
    dispose([j0.out, j0.tangent]);
    try {
      report.second = await checkGrads(pulled, args, { ...opts, order: 1, seed: (opts.seed ?? 1234) + 1, name: `${name}'s VJP`, termScale: pulledScale });
      report.secondForward = await checkGrads(pushed, args, { ...opts, order: 1, seed: (opts.seed ?? 1234) + 2, name: `${name}'s JVP`, termScale: pushedScale });
    } finally {
      dispose([w, uFixed, vFixed]);
    }
  }
  return report;
}

// ---- finite differences of vector functions ---------------------------------------------------

const FD_STEP = 1e-2;

/**
 * Richardson-extrapolated central difference of a vector function F along direction d at x
 * (step 1e-2, truncation error O(h^4)), F given as a function of the (f32-uploaded) perturbed
 * inputs; `scale` is max |F(x)|, for fdTolerance. Used for hvp against differences of gradients.
 */
export async function directional(F: (xs: Tensor[]) => Tensor, x: Float64Array[], d: Float64Array[], shapes: Shape[]): Promise<{ value: Float64Array; scale: number }> {
  const at = async (s: number): Promise<Float64Array> => {
    const xs = x.map((xi, i) => tensor(Float32Array.from(xi, (e, j) => e + s * d[i]![j]!), shapes[i]));
    const y = tidy(() => F(xs));
    const v = await f64(y);
    dispose([y, xs]);
    return v;
  };
  const D = async (s: number): Promise<Float64Array> => {
    const [p, m] = [await at(s), await at(-s)];
    return p.map((e, i) => (e - m[i]!) / (2 * s));
  };
  const [d1, d2, y0] = [await D(FD_STEP), await D(FD_STEP / 2), await at(0)];
  return { value: d2.map((e, i) => (4 * e - d1[i]!) / 3), scale: y0.reduce((m, e) => Math.max(m, Math.abs(e)), 0) };
}

/**
 * The per-element tolerance of `directional`'s estimate: 3e-4 relative plus 3 * 8 ulps * scale / h
 * for the f32 rounding of the two values the difference divides by 2h.
 */
export function fdTolerance(scale: number, ulps = 8): { rtol: number; atol: number } {
  return { rtol: 3e-4, atol: (3 * ulps * EPS32 * scale) / FD_STEP };
}
