// C[b] = op(A)[b] @ op(B)[b], register-blocked: each invocation computes a {{RM}}x{{RN}} block of C
// in registers and uses no workgroup memory. On CPU implementations (lavapipe) this measured 2x
// faster with 8x8 blocks than with 4x4 (each load feeds more multiply-adds), and far faster than
// workgroup-memory tiles (docs/methods.md section 3). A and B are addressed through strides, so
// transposed and broadcast (batch stride 0) operands need no copy; B is read as vec4 when its
// rows are contiguous and 16-byte aligned (B is then read as vec4<f32>).
{{MATMUL_PARAMS}}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * {{RN}}u;
  let row0 = gid.y * {{RM}}u;
  let batch = gid.z;
  if (row0 >= p.M || col0 >= p.N || batch >= p.batch) { return; }
  // Rows and columns past the edge are clamped, so every load stays in bounds; only the stores
  // are guarded.
  let ab = batch * p.aBatch;
  let bb = batch * p.bBatch;
{{SETUP}}
  for (var k: u32 = 0u; k < p.K; k = k + 1u) {
{{STEP}}
  }
  let cbase = batch * p.M * p.N;
{{STORE}}
}
