// col2im, the transpose of im2col, in gather form: each pixel of x sums the entries of cols
// whose patches cover it, in a fixed order (no atomics, deterministic).
//   x[n, c, y, xx] = sum over ki, kj with y + ph - ki = oy * sh and xx + pw - kj = ox * sw,
//                    0 <= oy < Ho, 0 <= ox < Wo, of cols[n, (c * kh + ki) * kw + kj, oy * Wo + ox]
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> cols: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = nwg.x * nwg.y * {{WG}}u;
  let L = p.Ho * p.Wo;
  for (var o = gid.x + gid.y * nwg.x * {{WG}}u; o < p.count; o = o + total) {
    let xx = o % p.W;
    let t = o / p.W;
    let y = t % p.H;
    let nc = t / p.H; // n * C + c
    // Row (n, c, 0, 0) of cols: rows of one image are C * kh * kw apart, of one channel kh * kw.
    let row0 = nc * p.kh * p.kw;
    var acc = 0.0;
    for (var ki = 0u; ki < p.kh; ki = ki + 1u) {
      let ty = i32(y + p.ph) - i32(ki);
      if (ty < 0) {
        break;
      }
      let oy = u32(ty) / p.sh;
      if (oy * p.sh != u32(ty) || oy >= p.Ho) {
        continue;
      }
      for (var kj = 0u; kj < p.kw; kj = kj + 1u) {
        let tx = i32(xx + p.pw) - i32(kj);
        if (tx < 0) {
          break;
        }
        let ox = u32(tx) / p.sw;
        if (ox * p.sw != u32(tx) || ox >= p.Wo) {
          continue;
        }
        acc = acc + cols[(row0 + ki * p.kw + kj) * L + oy * p.Wo + ox];
      }
    }
    x[o] = acc;
  }
}
