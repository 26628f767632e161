// Unary math: each entry is the WGSL expression its kernel evaluates and its derivative d(x)
// (or d(y), from the output), which serves as both the VJP (g * d) and the JVP (dx * d); see
// map.ts. Functions WGSL lacks or bounds loosely (sin, cos, tan, atan, erf, log1p, expm1) are ours,
// in shaders/trig.wgsl and shaders/special.wgsl, so results agree across adapters.
import { unary } from './map.js';
import { add, div, mul, sub } from './binary.js';

const NONE = { inputs: [], output: false };

/** -x. */
export const neg = unary('neg', '-a', {
  saves: NONE,
  vjp: (g) => [neg(g)],
  jvp: ([dx]) => neg(dx!),
});

/** -1, 0 or 1 by the sign of x (no gradient). */
export const sign = unary('sign', 'sign(a)', { nondiff: true });

/** |x|; its derivative at 0 is taken as 0 (sign(0)). */
export const abs = unary('abs', 'abs(a)', { d: (x) => sign(x) });

/** e^x (exactly 0 at -inf on every adapter). */
export const exp = unary('exp', 'expf(a)', { uses: 'y', d: (_x, y) => y });

/** Natural logarithm (-inf at 0 and NaN below 0 on every adapter). */
export const log = unary('log', 'logf(a)', {
  saves: { inputs: [0], output: false },
  vjp: (g, { inputs: [x] }) => [div(g, x!)],
  jvp: ([dx], { inputs: [x] }) => div(dx!, x!),
});

/** Square root. */
export const sqrt = unary('sqrt', 'sqrt(a)', {
  saves: { inputs: [], output: true },
  vjp: (g, { out }) => [div(g, mul(out!, 2))],
  jvp: ([dx], { out }) => div(dx!, mul(out, 2)),
});

/** x * x. */
export const square = unary('square', 'a * a', { d: (x) => mul(x, 2) });

// sinf and cosf (shaders/trig.wgsl) rather than the WGSL built-ins, whose accuracy varies by adapter.
/** Sine (accurate to a few ulp for |x| up to about 1e5). */
export const sin = unary('sin', 'sinf(a)', { d: (x) => cos(x) });

/** Cosine. */
export const cos = unary('cos', 'cosf(a)', {
  saves: { inputs: [0], output: false },
  vjp: (g, { inputs: [x] }) => [neg(mul(g, sin(x!)))],
  jvp: ([dx], { inputs: [x] }) => neg(mul(dx!, sin(x!))),
});

/** Tangent; d/dx = 1 + tan(x)^2. */
export const tan = unary('tan', 'tanf(a)', { uses: 'y', d: (_x, y) => add(square(y), 1) });

/** Arc tangent, in (-pi/2, pi/2); d/dx = 1 / (1 + x^2). */
export const atan = unary('atan', 'atanf(a)', { d: (x) => div(1, add(square(x), 1)) });

// tanh saturates to +-1 by |x| = 15 in f32; clamping keeps implementations that compute it
// through exp from overflowing to NaN.
/** Hyperbolic tangent. */
export const tanh = unary('tanh', 'tanh(clamp(a, -15.0, 15.0))', { uses: 'y', d: (_x, y) => sub(1, square(y)) });

/** log(1 + x), accurate for small |x| where log(1 + x) would round x away. */
export const log1p = unary('log1p', 'log1pf(a)', { d: (x) => div(1, add(x, 1)) });

/** e^x - 1, accurate for small |x| where exp(x) - 1 would cancel. */
export const expm1 = unary('expm1', 'expm1f(a)', { d: (x) => exp(x) });

/** The error function (2 / sqrt(pi)) int_0^x e^(-t^2) dt, to about 2 ulp; d/dx = (2 / sqrt(pi)) e^(-x^2). */
export const erf = unary('erf', 'erff(a)', { d: (x) => mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI)) });
