// C = op(A) @ op(B) for few columns (N <= 16) on CPU adapters, with A read from a texture copy
// (src/ops/kernels/matrix-texture.ts: texel (t, r) holds elements 4t .. 4t + 3 of row r of the
// matrix P stored in A's buffer). On lavapipe a textureLoad of a texel costs about as much as one
// or two storage loads, and these products are bound by their loads. Two forms ({{FORM}}):
//  - rows: op(A) = P; each invocation owns {{R}} rows of C and reads a texel of each per 4 values
//    of k;
//  - columns: op(A) = P^T; each invocation owns the 4 rows of C that one texel column of P holds,
//    and reads one texel per value of k.
// B's values are read by different invocations of a subgroup and handed around with
// subgroupShuffle, as in shaders/matmul_rows.wgsl; C is written through strides, so that the
// same kernel computes C^T = op(B)^T op(A)^T when it is M that is small.
enable subgroups;
{{MATMUL_PARAMS}}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  // No early return: subgroupShuffle needs every invocation of the subgroup in the loop below.
  let batch = wid.y;
  let bb = batch * p.bBatch;
{{BODY}}
}
