// C[b] = op(A)[b] @ op(B)[b] with workgroup-memory tiles, the classic kernel for GPUs (as in
// tfjs): an 8x8 workgroup computes a 32x32 tile of C, each invocation a 4x4 block, stepping
// through K 32 at a time with A's and B's 32x32 tiles staged in workgroup memory, so each value
// is read from the buffer once per workgroup instead of once per invocation. On CPU
// implementations the barriers and the extra copies make it slower than the register-blocked
// kernel (docs/methods.md section 3), so src/ops/kernels/matmul.ts picks it for GPUs only.
{{MATMUL_PARAMS}}

// As[k][row] and Bs[k][col] of the current 32-wide step of K.
var<workgroup> As: array<array<f32, 32>, 32>;
var<workgroup> Bs: array<array<f32, 32>, 32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tileRow = wid.y * 32u;
  let tileCol = wid.x * 32u;
  let batch = wid.z;
  let li = lid.y * 8u + lid.x;
  let ab = batch * p.aBatch;
  let bb = batch * p.bBatch;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  // No early return: every invocation must reach the barriers.
  for (var k0: u32 = 0u; k0 < p.K; k0 = k0 + 32u) {
    for (var t: u32 = 0u; t < 16u; t = t + 1u) {
      let e = t * 64u + li;
      // A: neighbouring invocations read neighbouring k (contiguous when A is not transposed).
      let ar = e / 32u;
      let ak = e % 32u;
      let row = tileRow + ar;
      let ka = k0 + ak;
      let av = a[ab + min(row, p.M - 1u) * p.aRow + min(ka, p.K - 1u) * p.aCol];
      As[ak][ar] = select(0.0, av, row < p.M && ka < p.K);
      // B: neighbouring invocations read neighbouring columns.
      let bk = e / 32u;
      let bc = e % 32u;
      let col = tileCol + bc;
      let kb = k0 + bk;
      let bv = b[bb + min(kb, p.K - 1u) * p.bRow + min(col, p.N - 1u) * p.bCol];
      Bs[bk][bc] = select(0.0, bv, col < p.N && kb < p.K);
    }
    workgroupBarrier();
    let r0 = lid.y * 4u;
    let c0 = lid.x * 4u;
    for (var kk: u32 = 0u; kk < 32u; kk = kk + 1u) {
      let bv = vec4<f32>(Bs[kk][c0], Bs[kk][c0 + 1u], Bs[kk][c0 + 2u], Bs[kk][c0 + 3u]);
      acc0 = acc0 + As[kk][r0] * bv;
      acc1 = acc1 + As[kk][r0 + 1u] * bv;
      acc2 = acc2 + As[kk][r0 + 2u] * bv;
      acc3 = acc3 + As[kk][r0 + 3u] * bv;
    }
    workgroupBarrier();
  }
  let cbase = batch * p.M * p.N;
  let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i: u32 = 0u; i < 4u; i = i + 1u) {
    let row = tileRow + lid.y * 4u + i;
    for (var j: u32 = 0u; j < 4u; j = j + 1u) {
      let col = tileCol + lid.x * 4u + j;
      if (row < p.M && col < p.N && batch < p.batch) {
        store(cbase + row * p.N + col, accs[i][j]);
      }
    }
  }
}
