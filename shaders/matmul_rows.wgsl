// C = op(A) @ op(B) for few columns (N <= 16), for CPU implementations: each invocation owns
// {{R}} rows of C and all N columns, so a value of B read once serves {{R}} rows in each of the
// invocations that share it. On lavapipe every load costs per invocation, so B's values are
// read by different invocations of a subgroup and handed around with subgroupShuffle
// ({{SHUFFLE}}); A's values, one per row, are each read once. C is written through strides so
// that the same kernel computes C^T = op(B)^T op(A)^T when it is M that is small.
{{ENABLE}}
{{MATMUL_PARAMS}}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32{{LANE_ARG}}) {
  // Rows base, base + {{WG}}, ... : neighbouring invocations take neighbouring rows. No early
  // return: subgroupShuffle needs every invocation of the subgroup in the loop below.
  let base = wid.x * {{WG}}u * {{R}}u + li;
  let batch = wid.y;
  let ab = batch * p.aBatch;
  let bb = batch * p.bBatch;
{{SETUP}}
  var k: u32 = 0u;
  for (; k + {{U}}u <= p.K; k = k + {{U}}u) {
{{STEP}}
  }
  for (; k < p.K; k = k + 1u) {
{{STEP1}}
  }
{{STORE}}
}
