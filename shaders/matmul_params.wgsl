// The parameter block (declared once in src/ops/kernels/matmul.ts, MATMUL_PARAMS) and the
// bindings every matmul kernel shares. C[batch] = op(A)[batch] op(B)[batch],
// each operand addressed through strides: a batch stride of 0 broadcasts, and a transposed operand
// swaps its row and column strides. C's own strides serve kernels that write C transposed.
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<{{B_T}}>;
