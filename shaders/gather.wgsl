// out[a, j, b] = x[a, idx[j], b]: x viewed as [A, X, B], idx of length J. An index outside
// [0, X) reads 0 and is recorded in `bad` (the engine's index-error block, read with the next
// readback, which then throws): [found, index, bound, op = 1 for gather].
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> bad: array<atomic<u32>, 4>;
@group(0) @binding(3) var<storage, read> x: array<{{T}}>;
@group(0) @binding(4) var<storage, read> idx: array<i32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // A grid-stride loop, as in elementwise.wgsl: CPU adapters get a small grid.
  let total = nwg.x * nwg.y * {{WG}}u;
  for (var o = gid.x + gid.y * nwg.x * {{WG}}u; o < p.A * p.J * p.B; o = o + total) {
    let b = o % p.B;
    let aj = o / p.B;
    let j = aj % p.J;
    let a = aj / p.J;
    let k = idx[j];
    if (k < 0 || u32(k) >= p.X) {
      out[o] = {{T}}(0);
      // The first invocation to find a bad index records it (atomicMax returns the old flag).
      if (atomicMax(&bad[0], 1u) == 0u) {
        atomicStore(&bad[1], bitcast<u32>(k));
        atomicStore(&bad[2], p.X);
        atomicStore(&bad[3], 1u);
      }
    } else {
      out[o] = x[(a * p.X + u32(k)) * p.B + b];
    }
  }
}
