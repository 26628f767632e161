// C[b] = A[b] @ B[b] with each invocation computing a 4x4 block of C in registers and no
// workgroup memory (on CPU implementations such as lavapipe this beats shared-memory tiles;
// design.md section 4). A and B are addressed through strides, so transposed and broadcast
// (batch stride 0) operands need no copy.
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
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * 4u;
  let row0 = gid.y * 4u;
  let batch = gid.z;
  if (row0 >= p.M || col0 >= p.N || batch >= p.batch) { return; }
  // Clamped rows and columns keep every load in bounds; only the stores are guarded.
  let ab = batch * p.aBatch;
  let bb = batch * p.bBatch;
  let ra0 = ab + min(row0, p.M - 1u) * p.aRow;
  let ra1 = ab + min(row0 + 1u, p.M - 1u) * p.aRow;
  let ra2 = ab + min(row0 + 2u, p.M - 1u) * p.aRow;
  let ra3 = ab + min(row0 + 3u, p.M - 1u) * p.aRow;
  let cb0 = bb + min(col0, p.N - 1u) * p.bCol;
  let cb1 = bb + min(col0 + 1u, p.N - 1u) * p.bCol;
  let cb2 = bb + min(col0 + 2u, p.N - 1u) * p.bCol;
  let cb3 = bb + min(col0 + 3u, p.N - 1u) * p.bCol;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var ka: u32 = 0u;
  var kb: u32 = 0u;
  for (var k: u32 = 0u; k < p.K; k = k + 1u) {
    let bv = vec4<f32>(b[kb + cb0], b[kb + cb1], b[kb + cb2], b[kb + cb3]);
    acc0 = acc0 + a[ra0 + ka] * bv;
    acc1 = acc1 + a[ra1 + ka] * bv;
    acc2 = acc2 + a[ra2 + ka] * bv;
    acc3 = acc3 + a[ra3 + ka] * bv;
    ka = ka + p.aCol;
    kb = kb + p.bRow;
  }
  let cbase = batch * p.M * p.N;
  let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i: u32 = 0u; i < 4u; i = i + 1u) {
    let row = row0 + i;
    if (row < p.M) {
      for (var j: u32 = 0u; j < 4u; j = j + 1u) {
        if (col0 + j < p.N) {
          c[cbase + row * p.N + col0 + j] = accs[i][j];
        }
      }
    }
  }
}
