// im2col: the patches of a convolution as the columns of a matrix, in gather form.
//   cols[n, (c * kh + ki) * kw + kj, oy * Wo + ox] = x[n0 + n, c, oy * sh + ki - ph, ox * sw + kj - pw]
// and 0 where that pixel lies in the padding. x is [N, C, H, W] (NCHW); one invocation fills one
// output row oy of one row (n, c, ki, kj) of cols: Wo entries with no division per entry, and
// enough units of work for every core even for a handful of one-channel images.
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> cols: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // A grid-stride loop, as in elementwise.wgsl: CPU adapters get a small grid.
  let total = nwg.x * nwg.y * {{WG}}u;
  let L = p.Ho * p.Wo;
  let CK = p.C * p.kh * p.kw;
  for (var u = gid.x + gid.y * nwg.x * {{WG}}u; u < p.rows * p.Ho; u = u + total) {
    let r = u / p.Ho;
    let oy = u - r * p.Ho;
    let n = r / CK;
    let ck = r - n * CK;
    let kj = ck % p.kw;
    let t = ck / p.kw;
    let ki = t % p.kh;
    let c = t / p.kh;
    let y = i32(oy * p.sh + ki) - i32(p.ph);
    let orow = r * L + oy * p.Wo;
    if (y < 0 || y >= i32(p.H)) {
      for (var ox = 0u; ox < p.Wo; ox = ox + 1u) {
        cols[orow + ox] = 0.0;
      }
      continue;
    }
    let xrow = ((p.n0 + n) * p.C + c) * p.H * p.W + u32(y) * p.W;
    for (var ox = 0u; ox < p.Wo; ox = ox + 1u) {
      let xx = i32(ox * p.sw + kj) - i32(p.pw);
      var v = 0.0;
      if (xx >= 0 && xx < i32(p.W)) {
        v = x[xrow + u32(xx)];
      }
      cols[orow + ox] = v;
    }
  }
}
