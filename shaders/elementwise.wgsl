// Elementwise map over an iteration space of up to 8 dims, filled in by src/ops/fusion/codegen.ts.
// Every operand (the output and any number of inputs) is addressed through an offset and per-dim
// strides, so one kernel serves a fused chain of ops with NumPy broadcasting (stride 0) and every
// view copy: transpose, slice, broadcast, the pieces of a concat. Each op is a function of its own
// (after the helpers) and the unit code evaluates them node by node. Operands that are plain
// contiguous arrays skip the index arithmetic (the index code is generated per operand mode); when every operand is
// contiguous (or one broadcast value) and 16-byte aligned, each unit of work is a vec4.
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<{{OUT_T}}>;
{{BINDINGS}}

// <helpers>
// NaN and infinity cannot be WGSL constants; reading the bits from a variable makes them runtime values.
fn from_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}

// NaN by its bits, so that no compiler's finite-math assumption can fold the test away.
fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// exp and log with their limits pinned: WGSL leaves exp(-inf), log(0) and log of a negative
// number open, and some adapters (SwiftShader) return about -88 for log(0). The selects leave
// every other value as the built-in computes it.
fn expf(a: f32) -> f32 {
  return select(exp(a), 0.0, a < -104.0); // e^-104 is below the smallest f32 denormal
}

fn logf(a: f32) -> f32 {
  return select(select(log(a), from_bits(0xff800000u), a == 0.0), from_bits(0x7fc00000u), a < 0.0);
}

// max, min and clamp that return NaN when an operand is NaN (WGSL leaves that case open).
fn max_nan(a: f32, b: f32) -> f32 {
  return select(max(a, b), a + b, is_nan(a) || is_nan(b));
}

fn min_nan(a: f32, b: f32) -> f32 {
  return select(min(a, b), a + b, is_nan(a) || is_nan(b));
}

fn clamp_nan(x: f32, lo: f32, hi: f32) -> f32 {
  return select(min(max(x, lo), hi), x, is_nan(x));
}

fn powf(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  let m = pow(abs(a), b);
  if (a < 0.0) {
    if (fract(b) != 0.0) { return from_bits(0x7fc00000u); }
    if (fract(b * 0.5) != 0.0) { return -m; }
  }
  if (a == 0.0) { return select(0.0, from_bits(0x7f800000u), b < 0.0); }
  return m;
}

// log(1 + e) for e in [0, 1]. 1 + e rounds away most of a small e, so below 1/64 the series
// e - e^2/2 + e^3/3 - e^4/4 (error under e^5/5, far below one ulp of the result) is used.
fn log1p_unit(e: f32) -> f32 {
  let series = e * (1.0 - e * (0.5 - e * (0.33333334 - e * 0.25)));
  return select(log(1.0 + e), series, e < 0.015625);
}

// log(1 + exp(x)) without overflow for large x or lost digits for very negative x.
fn softplusf(x: f32) -> f32 {
  return max(x, 0.0) + log1p_unit(exp(-abs(x)));
}

{{TRIG}}

{{SPECIAL}}

fn sigmoidf(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

// </helpers>
{{FNS}}

// The unit code computes unit u (one element, or one vec4 of elements 4u .. 4u + 3). A grid-stride
// loop: on a grid with one invocation per unit it runs once; CPU adapters get a small grid, since
// each workgroup costs them a fixed overhead that dwarfs a few elements of work.
@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = nwg.x * nwg.y * {{WG}}u;
  let first = gid.x + gid.y * nwg.x * {{WG}}u;
  for (var u = first; u < p.units; u = u + total) {
{{UNIT}}
  }
{{TAIL}}
}
