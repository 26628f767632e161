// Reduction of a [A, R, B] array over R into [A, B] (the op layer permutes/reshapes any set of
// axes into that form). One invocation per output; the loop reads stride B, so neighbouring
// invocations read neighbouring addresses when B > 1.
struct Params {
  A: u32,
  R: u32,
  B: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// -inf cannot be a WGSL constant; reading the bits from a variable makes it a runtime value.
fn neg_inf() -> f32 {
  var b = 0xff800000u;
  return bitcast<f32>(b);
}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.y * nwg.x * {{WG}}u;
  if (o >= p.A * p.B) { return; }
  let a = o / p.B;
  let b = o - a * p.B;
  var base = a * p.R * p.B + b;
  var acc: f32 = {{INIT}};
  var arg: u32 = 0u;
  for (var r: u32 = 0u; r < p.R; r = r + 1u) {
    let v = x[base];
    {{COMBINE}}
    base = base + p.B;
  }
  out[o] = {{RESULT}};
}
