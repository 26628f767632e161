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
