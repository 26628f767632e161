// C = op(A) @ op(B) for few columns (N <= 16), for CPU implementations: each invocation owns
// {{R}} rows of C and all N columns, so a value of B read once serves {{R}} rows in each of the
// invocations that share it. On lavapipe every load costs per invocation, so B's values are
// read by different invocations of a subgroup and handed around with subgroupShuffle
// ({{SHUFFLE}}); A's values, one per row, are each read once. C is written through strides so
// that the same kernel computes C^T = op(B)^T op(A)^T when it is M that is small.
{{ENABLE}}
struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  aBatch: u32,
  aRow: u32,
  aCol: u32,
  bBatch: u32,
  bRow: u32,
  bCol: u32,
  cBatch: u32,
  cRow: u32,
  cCol: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

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
