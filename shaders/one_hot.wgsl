// out[i, d] = 1 where idx[i] == d, else 0. An index outside [0, depth) gives a row of zeros and
// is recorded in `bad` (the engine's index-error block, read with the next readback, which then
// throws): [found, index, bound, op = 2 for oneHot].
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> bad: array<atomic<u32>, 4>;
@group(0) @binding(3) var<storage, read> idx: array<i32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // A grid-stride loop, as in elementwise.wgsl: CPU adapters get a small grid.
  let total = nwg.x * nwg.y * {{WG}}u;
  for (var o = gid.x + gid.y * nwg.x * {{WG}}u; o < p.n * p.depth; o = o + total) {
    let row = o / p.depth;
    let d = o - row * p.depth;
    let k = idx[row];
    out[o] = select(0.0, 1.0, k == i32(d));
    if (d == 0u && (k < 0 || u32(k) >= p.depth) && atomicMax(&bad[0], 1u) == 0u) {
      atomicStore(&bad[1], bitcast<u32>(k));
      atomicStore(&bad[2], p.depth);
      atomicStore(&bad[3], 2u);
    }
  }
}
