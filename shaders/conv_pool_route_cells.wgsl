// Max-pooling's "route" when windows do not overlap (stride >= size), one invocation per window:
// the plane is cut into cells, cell (oy, ox) holding rows [oy stride, (oy + 1) stride) and columns
// likewise (the last row and column of cells reach to the plane's edge), so every pixel lies in
// exactly one cell and every window inside its own cell. The invocation writes its cell: `data`
// (the gradient) at the window's argmax (in key plane q % Pk), 0 elsewhere. Each pixel is written
// once: no atomics, and the argmax is found once per window rather than once per pixel.
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
    let best = window_argmax((q % p.Pk) * HW, oy, ox);
    let gv = data[o];
    let y0 = oy * p.stride;
    let x0 = ox * p.stride;
    let y1 = select(y0 + p.stride, p.H, oy + 1u == p.Ho);
    let x1 = select(x0 + p.stride, p.W, ox + 1u == p.Wo);
    for (var y = y0; y < y1; y = y + 1u) {
      for (var xx = x0; xx < x1; xx = xx + 1u) {
        let at = y * p.W + xx;
        out[q * HW + at] = select(0.0, gv, at == best);
      }
    }
  }
}
