// C = A @ B for skinny B (N <= {{NN}} columns) and long rows: memory-bound, so the point is to
// read A once, contiguously. A workgroup owns one row of A; its invocations split K and read
// neighbouring addresses, keep {{NN}} partial sums each, and combine them in workgroup memory.
{{MATMUL_PARAMS}}

var<workgroup> partial: array<array<f32, {{NN}}>, {{WG}}>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = wid.x + wid.y * nwg.x;
  let batch = w / p.M;
  let row = w - batch * p.M;
  let valid = batch < p.batch;
  var acc: array<f32, {{NN}}>;
  for (var j: u32 = 0u; j < {{NN}}u; j = j + 1u) { acc[j] = 0.0; }
  if (valid) {
    let abase = batch * p.aBatch + row * p.aRow;
    let bbase = batch * p.bBatch;
    for (var k: u32 = lid.x; k < p.K; k = k + {{WG}}u) {
      let av = a[abase + k * p.aCol];
      let kb = bbase + k * p.bRow;
      for (var j: u32 = 0u; j < {{NN}}u; j = j + 1u) {
        acc[j] = acc[j] + av * b[kb + min(j, p.N - 1u) * p.bCol];
      }
    }
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s: u32 = {{WG}}u / 2u; s > 0u; s = s >> 1u) {
    if (lid.x < s) {
      for (var j: u32 = 0u; j < {{NN}}u; j = j + 1u) {
        partial[lid.x][j] = partial[lid.x][j] + partial[lid.x + s][j];
      }
    }
    workgroupBarrier();
  }
  if (valid && lid.x < p.N) {
    store((batch * p.M + row) * p.N + lid.x, partial[0][lid.x]);
  }
}
