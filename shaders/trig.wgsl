// sin and cos accurate to a few ulp on every adapter. WGSL bounds the built-ins only by an
// absolute error of 2^-11 on [-pi, pi] and not at all outside it, and adapters use that room
// (SwiftShader's are off by 2e-4), which would make the same computation give different numbers
// in different browsers and under Node. Cody-Waite reduction by pi/2 in three parts, then Cephes'
// minimax polynomials on [-pi/4, pi/4]. Accurate for |x| up to about 1e5.
fn sin_kernel(r: f32) -> f32 {
  let z = r * r;
  return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
}

fn cos_kernel(r: f32) -> f32 {
  let z = r * r;
  return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
}

// sin(x + quarter * pi / 2).
fn sin_quadrant(x: f32, quarter: i32) -> f32 {
  let k = round(x * 0.6366197723675814);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.549789954891882e-8;
  let q = (i32(k) + quarter) & 3;
  let s = select(sin_kernel(r), cos_kernel(r), (q & 1) == 1);
  return select(s, -s, q >= 2);
}

fn sinf(x: f32) -> f32 { return sin_quadrant(x, 0); }
fn cosf(x: f32) -> f32 { return sin_quadrant(x, 1); }

// tan(x) from the same reduction: tan(r) for an even quadrant, -cot(r) for an odd one.
fn tanf(x: f32) -> f32 {
  let k = round(x * 0.6366197723675814);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.549789954891882e-8;
  let s = sin_kernel(r);
  let c = cos_kernel(r);
  return select(s / c, -c / s, (i32(k) & 1) == 1);
}

// atan(x): |x| reduced to [0, tan(pi/8)] by atan(a) = pi/2 + atan(-1/a) above tan(3pi/8) and
// pi/4 + atan((a - 1)/(a + 1)) above tan(pi/8), then Cephes' minimax polynomial (a few ulp).
// WGSL allows its built-in atan 4096 ulp.
fn atanf(x: f32) -> f32 {
  let a = abs(x);
  let big = a > 2.414213562373095;
  let mid = a > 0.41421356237309503;
  let t = select(select(a, (a - 1.0) / (a + 1.0), mid), -1.0 / a, big);
  let base = select(select(0.0, 0.7853981633974483, mid), 1.5707963267948966, big);
  let z = t * t;
  let r = base + ((((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * t + t);
  return select(r, -r, x < 0.0);
}
