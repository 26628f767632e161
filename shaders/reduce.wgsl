// Reduction of a [A, R, B] array over R into [A, B] (the op layer permutes/reshapes any set of
// axes into that form). One invocation per unit of output, looping over R with stride B, so
// neighbouring invocations read neighbouring addresses when B > 1. A unit is one output, or 4
// neighbouring outputs read as a vec4 when B is a multiple of 4 ({{T}}). Units are visited by a
// grid-stride loop: once each on a full grid, many per invocation on the small grids that CPU
// adapters get.
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<{{T}}>;
@group(0) @binding(2) var<storage, read> x: array<{{T}}>;

// Infinities cannot be WGSL constants; reading the bits from a variable makes them runtime values.
fn neg_inf() -> f32 {
  var b = 0xff800000u;
  return bitcast<f32>(b);
}

fn pos_inf() -> f32 {
  var b = 0x7f800000u;
  return bitcast<f32>(b);
}

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = nwg.x * nwg.y * {{WG}}u;
  for (var o = gid.x + gid.y * nwg.x * {{WG}}u; o < p.A * p.B; o = o + total) {
    let a = o / p.B;
    let b = o - a * p.B;
    var base = a * p.R * p.B + b;
    var acc = {{INIT}};
    var arg = {{U}}(0u);
    for (var r: u32 = 0u; r < p.R; r = r + 1u) {
      let v = x[base];
      {{COMBINE}}
      base = base + p.B;
    }
    out[o] = {{RESULT}};
  }
}
