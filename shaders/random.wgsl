// Counter-based random numbers: element i of a tensor drawn with seed s is a hash of (i, s), so
// the same seed gives the same numbers on every adapter (integer hashing is exact; the normal's
// Box-Muller transform agrees to float rounding) and no state lives on the GPU.
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn hash3(i: u32, lo: u32, hi: u32) -> u32 {
  return pcg(pcg(pcg(i) ^ lo) + hi);
}

{{TRIG}}

// 24 random bits to a float in [0, 1); exact in f32.
fn unit(h: u32) -> f32 {
  return f32(h >> 8u) * (1.0 / 16777216.0);
}

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // A grid-stride loop, as in elementwise.wgsl: CPU adapters get a small grid.
  let total = nwg.x * nwg.y * {{WG}}u;
  for (var i = gid.x + gid.y * nwg.x * {{WG}}u; i < p.n; i = i + total) {
    if (p.kind == 0u) {
      out[i] = p.a + (p.b - p.a) * unit(hash3(2u * i, p.seedLo, p.seedHi));
    } else {
      let u1 = 1.0 - unit(hash3(2u * i, p.seedLo, p.seedHi));   // (0, 1]
      let u2 = unit(hash3(2u * i + 1u, p.seedLo, p.seedHi));
      out[i] = p.a + p.b * sqrt(-2.0 * log(u1)) * cosf(6.283185307179586 * u2);
    }
  }
}
