// Inclusive prefix sum of a [A, R, B] array along R (cumsum), forwards or backwards. One
// invocation per (a, b) line walks its R values in order, so neighbouring invocations read
// neighbouring addresses when B > 1; lines are visited by a grid-stride loop.
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = nwg.x * nwg.y * {{WG}}u;
  for (var o = gid.x + gid.y * nwg.x * {{WG}}u; o < p.A * p.B; o = o + total) {
    let a = o / p.B;
    let b = o - a * p.B;
    let base = a * p.R * p.B + b;
    var acc = 0.0;
    for (var k: u32 = 0u; k < p.R; k = k + 1u) {
      let r = select(k, p.R - 1u - k, p.reverse == 1u);
      let i = base + r * p.B;
      acc = acc + x[i];
      out[i] = acc;
    }
  }
}
