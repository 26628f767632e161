// Activation functions: each a WGSL expression and its derivative d(x) or d(y), used by both the
// VJP and the JVP (see map.ts). NaN inputs give NaN outputs (relu and leakyRelu included).
import { Tensor } from '../tensor.js';
import { unary, unaryWith } from './map.js';
import { add, greater, mul, sub, where } from './binary.js';
import { erf, exp, neg, square, tanh } from './math.js';

/** 1 / (1 + e^-x), stable for large |x|. */
export const sigmoid = unary('sigmoid', 'sigmoidf(a)', { uses: 'y', d: (_x, y) => mul(y, sub(1, y)) });

/** max(x, 0); NaN stays NaN; the derivative at 0 is taken as 0 (as in PyTorch). */
export const relu = unary('relu', 'select(a, 0.0, a < 0.0)', { d: (x) => greater(x, 0) });

/** log(1 + e^x), stable for large |x|. */
export const softplus = unary('softplus', 'softplusf(a)', { d: (x) => sigmoid(x) });

/** log(sigmoid(x)) = -softplus(-x), stable for large |x|. */
export const logSigmoid = unary('logSigmoid', '-softplusf(-a)', { d: (x) => sigmoid(neg(x)) });

/** x sigmoid(x) (also called swish); d/dx = s (1 + x (1 - s)) with s = sigmoid(x). */
export const silu = unary('silu', 'a * sigmoidf(a)', {
  d: (x) => {
    const s = sigmoid(x);
    return mul(s, add(mul(x, sub(1, s)), 1));
  },
});

const leakyReluOp = unaryWith<[number]>('leakyRelu', 'select(a, a * p.scalars.x, a < 0.0)', {
  d: (x, _y, [slope]) => where(greater(x, 0), 1, slope!),
});

/** x where x > 0, slope * x elsewhere (PyTorch's default slope 0.01); the derivative at 0 is slope. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  return leakyReluOp(x, slope);
}

const eluOp = unaryWith<[number]>('elu', 'select(a, p.scalars.x * expm1f(a), a < 0.0)', {
  d: (x, _y, [alpha]) => where(greater(x, 0), 1, mul(exp(x), alpha!)),
});

/** x where x > 0, alpha (e^x - 1) elsewhere (default alpha 1); the derivative at 0 is alpha. */
export function elu(x: Tensor, alpha = 1): Tensor {
  return eluOp(x, alpha);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// x Phi(x) with Phi the standard normal CDF; d/dx = Phi(x) + x phi(x).
const geluErf = unary('gelu', 'a * 0.5 * (1.0 + erff(a * 0.70710678118654752))', {
  d: (x) => add(mul(add(erf(mul(x, SQRT1_2)), 1), 0.5), mul(x, mul(exp(mul(square(x), -0.5)), INV_SQRT_2PI))),
});

// 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3);
// d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2), t = tanh(u).
const K = Math.sqrt(2 / Math.PI);
const C = 0.044715;
const geluTanh = unary('geluTanh', `0.5 * a * (1.0 + tanh(clamp(${K} * (a + ${C} * a * a * a), -15.0, 15.0)))`, {
  d: (x) => {
    const t = tanh(mul(add(mul(square(x), mul(x, C)), x), K));
    const du = mul(add(mul(square(x), 3 * C), 1), K);
    return add(mul(add(t, 1), 0.5), mul(mul(x, 0.5), mul(sub(1, square(t)), du)));
  },
});

/** Options of gelu. */
export interface GeluOptions {
  /** 'none' (default): the exact x Phi(x) through erf; 'tanh': PyTorch's tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** The Gaussian error linear unit x Phi(x), exact (through erf) unless `approximate: 'tanh'`. */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const mode = opts.approximate ?? 'none';
  if (mode === 'tanh') return geluTanh(x);
  if (mode !== 'none') throw new Error(`hypertape: gelu: approximate must be 'none' or 'tanh', got '${mode}'`);
  return geluErf(x);
}
