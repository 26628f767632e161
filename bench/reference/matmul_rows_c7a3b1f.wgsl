// FROZEN COPY, for `npm run bench -- targets` only: the 'rows' matmul kernel of commit c7a3b1f
// (shaders/matmul_rows.wgsl with shaders/matmul_params.wgsl inlined), the kernel that commit ran
// on CPU adapters for products with at most 16 columns or rows. bench/reference-matmul.ts fills
// and dispatches it exactly as c7a3b1f's src/ops/launch.ts did, so the skinny products' baseline
// is measured side by side with today's kernels. Do not edit: it is the yardstick.
//
// (c7a3b1f) C = op(A) @ op(B) for few columns (N <= 16), for CPU implementations: each invocation owns
// (c7a3b1f) {{R}} rows of C and all N columns, so a value of B read once serves {{R}} rows in each of the
// (c7a3b1f) invocations that share it. On lavapipe every load costs per invocation, so B's values are
// (c7a3b1f) read by different invocations of a subgroup and handed around with subgroupShuffle
// (c7a3b1f) ({{SHUFFLE}}); A's values, one per row, are each read once. C is written through strides so
// (c7a3b1f) that the same kernel computes C^T = op(B)^T op(A)^T when it is M that is small.
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
