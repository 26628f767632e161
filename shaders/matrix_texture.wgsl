// Copies the row-major matrix x (p.rows x p.cols) into an rgba32float texture: texel
// (t, r) holds x[r][4t .. 4t + 3], zeros past the last column (src/ops/kernels/matrix-texture.ts).
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var t: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = nwg.x * nwg.y * {{WG}}u;
  for (var u = gid.x + gid.y * nwg.x * {{WG}}u; u < p.width * p.rows; u = u + total) {
    let r = u / p.width;
    let c = 4u * (u - r * p.width);
    let at = r * p.cols + c;
    var v = vec4<f32>(0.0);
    for (var q = 0u; q < 4u; q = q + 1u) {
      if (c + q < p.cols) { v[q] = x[at + q]; }
    }
    textureStore(t, vec2<u32>(c / 4u, r), v);
  }
}
