// Max-pooling's "pick": out[q, oy, ox] = data[q, argmax of key's window (oy, ox)], for planes
// q < P of H x W; key has Pk planes and plane q reads key plane q % Pk (tangents carry
// directions in front of the primal's dims). With data = key this is the max-pool itself.
{{COMMON}}

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = nwg.x * nwg.y * {{WG}}u;
  let HW = p.H * p.W;
  for (var o = gid.x + gid.y * nwg.x * {{WG}}u; o < p.P * p.Ho * p.Wo; o = o + total) {
    let ox = o % p.Wo;
    let t = o / p.Wo;
    let oy = t % p.Ho;
    let q = t / p.Ho;
    out[o] = data[q * HW + window_argmax((q % p.Pk) * HW, oy, ox)];
  }
}
