// The parameter block (declared once in src/ops/kernels/matmul.ts, MATMUL_PARAMS) and the
// bindings every matmul kernel shares: C at 1, A at 2 and B at 3; with an epilogue that C is
// kept beside, its result at 2 (writable bindings come first), A at 3 and B at 4; the epilogue's
// leaves follow. C[batch] = op(A)[batch] op(B)[batch],
// each operand addressed through strides: a batch stride of 0 broadcasts, and a transposed operand
// swaps its row and column strides. C's own strides serve kernels that write C transposed.
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding({{A_AT}}) var{{A_TYPE}};
@group(0) @binding({{B_AT}}) var<storage, read> b: array<{{B_T}}>;
{{EPILOGUE}}

// Every kernel stores C's element i through this: C itself, or a fused epilogue's result in its
// place (the pending elementwise graph over C that the lazy ops layer computes as C is stored),
// or both (C, and the epilogue's result in e).
fn store(i: u32, v: f32) {
  {{STORE}}
}
