// Gather-sum (scatter-add) of values [A, J, B] into out [A, D, B] by an index list of length J:
// out[a, k, b] = sum of values[a, i, b] over the i with idx[i] == k, added in increasing i, so
// the result is the same bit for bit on every run (no float atomics). The members of each
// bucket come from scatter_index.wgsl: order[start_k .. end_k) with end_k = ends[k C + C - 1]
// and start_k = end_{k-1}. One invocation per output, visited by a grid-stride loop; an empty
// bucket gives 0.
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> ends: array<u32>;
@group(0) @binding(3) var<storage, read> order: array<u32>;
@group(0) @binding(4) var<storage, read> values: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = nwg.x * nwg.y * {{WG}}u;
  for (var o = gid.x + gid.y * nwg.x * {{WG}}u; o < p.A * p.D * p.B; o = o + total) {
    let b = o % p.B;
    let ak = o / p.B;
    let k = ak % p.D;
    let a = ak / p.D;
    var start = 0u;
    if (k > 0u) {
      start = ends[k * p.C - 1u];
    }
    let stop = min(ends[k * p.C + p.C - 1u], p.J);
    let base = a * p.J * p.B + b;
    var acc = 0.0;
    for (var s = start; s < stop; s = s + 1u) {
      acc = acc + values[base + order[s] * p.B];
    }
    out[o] = acc;
  }
}
