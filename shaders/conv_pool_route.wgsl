// Max-pooling's "route", the transpose of pick, in gather form: each pixel of a plane q < P of
// H x W sums `data` (the gradient) over the windows that cover it and whose argmax (in key plane
// q % Pk) it is. No atomics; overlapping windows (stride < size) are summed in a fixed order.
{{COMMON}}

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = nwg.x * nwg.y * {{WG}}u;
  let HW = p.H * p.W;
  for (var o = gid.x + gid.y * nwg.x * {{WG}}u; o < p.P * HW; o = o + total) {
    let at = o % HW;
    let q = o / HW;
    let y = at / p.W;
    let xx = at - y * p.W;
    let kbase = (q % p.Pk) * HW;
    // Windows oy with oy * stride <= y < oy * stride + size.
    let oy0 = select(0u, (y + 1u - p.size + p.stride - 1u) / p.stride, y + 1u > p.size);
    let ox0 = select(0u, (xx + 1u - p.size + p.stride - 1u) / p.stride, xx + 1u > p.size);
    let oy1 = min(y / p.stride + 1u, p.Ho);
    let ox1 = min(xx / p.stride + 1u, p.Wo);
    var acc = 0.0;
    for (var oy = oy0; oy < oy1; oy = oy + 1u) {
      for (var ox = ox0; ox < ox1; ox = ox + 1u) {
        if (window_argmax(kbase, oy, ox) == at) {
          acc = acc + data[(q * p.Ho + oy) * p.Wo + ox];
        }
      }
    }
    out[o] = acc;
  }
}
