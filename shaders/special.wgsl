// Special functions for the elementwise kernels, accurate in f32 on every adapter (WGSL has no
// erf, log1p or expm1, and log(1 + x) and exp(x) - 1 lose the digits of a small x).

// log(1 + x). On (-0.5, 1): log1p(x) = 2 atanh(s) with s = x / (2 + x), |s| <= 1/3, by its series
// 2 s (1 + s^2/3 + s^4/5 + ... + s^14/15) (truncation below 2e-9 relative); elsewhere 1 + x
// loses nothing that matters and log(1 + x) is used.
fn log1pf(x: f32) -> f32 {
  let s = x / (2.0 + x);
  let z = s * s;
  let series = 2.0 * s * (1.0 + z * (0.33333333333 + z * (0.2 + z * (0.14285714286 + z * (0.11111111111 + z * (0.09090909091 + z * (0.07692307692 + z * 0.06666666667)))))));
  return select(logf(1.0 + x), series, x > -0.5 && x < 1.0);
}

// e^x - 1. For |x| < 0.5 the Taylor series to x^9/9! (truncation below 6e-10 relative); elsewhere
// exp(x) - 1, which cancels at most a factor 2.6 there. (expf, logf: shaders/elementwise.wgsl.)
fn expm1f(x: f32) -> f32 {
  let series = x * (1.0 + x * (0.5 + x * (0.16666666667 + x * (0.041666666667 + x * (0.0083333333333 + x * (0.0013888888889 + x * (1.9841269841e-4 + x * (2.4801587302e-5 + x * 2.7557319224e-6))))))));
  return select(expf(x) - 1.0, series, abs(x) < 0.5);
}

// erf(x) to about 1 ulp plus the error of exp, after Arm's optimized-routines erff (MIT): for
// |x| < 0.921875, x + x P(x^2); for |x| < 4, 1 - exp(-(a + a Q(a))) with a = |x|; beyond, +-1
// (erf(4) rounds to 1 in f32). Minimax coefficients from that library.
fn erff(x: f32) -> f32 {
  let a = abs(x);
  let z = x * x;
  let small = x + x * (0.128379151 + z * (-0.376124859 + z * (0.112818025 + z * (-0.0267667342 + z * (0.00499339588 + z * -0.000599104969)))));
  let r = a + a * (0.128717512 + a * (0.634846687 + a * (0.106777847 + a * (-0.0242545605 + a * (0.00388393435 + a * (-0.000383208680 + a * 0.0000172948930))))));
  let tail = select(1.0, 1.0 - exp(-r), a < 4.0);
  let big = select(tail, -tail, x < 0.0);
  return select(select(big, small, a < 0.921875), x, is_nan(x));
}
