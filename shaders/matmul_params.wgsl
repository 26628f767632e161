// The uniform block and bindings every matmul kernel shares. C[batch] = op(A)[batch] op(B)[batch],
// each operand addressed through strides: a batch stride of 0 broadcasts, and a transposed operand
// swaps its row and column strides. C's own strides serve kernels that write C transposed.
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
@group(0) @binding(3) var<storage, read> b: array<{{B_T}}>;
