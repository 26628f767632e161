// out[i, d] = 1 where idx[i] == d, else 0.
struct Params {
  n: u32,
  depth: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // A grid-stride loop, as in elementwise.wgsl: CPU adapters get a small grid.
  let total = nwg.x * nwg.y * {{WG}}u;
  for (var o = gid.x + gid.y * nwg.x * {{WG}}u; o < p.n * p.depth; o = o + total) {
    let row = o / p.depth;
    let d = o - row * p.depth;
    out[o] = select(0.0, 1.0, idx[row] == i32(d));
  }
}
