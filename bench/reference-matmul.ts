// The baseline of issue 12's target "the skinny products >= 2x today's GFLOP/s": commit c7a3b1f's
// matmul for these shapes on CPU adapters (its 'rows' kernel: at most 16 columns, or 16 rows by
// computing C^T), kept frozen here (bench/reference/matmul_rows_c7a3b1f.wgsl) and dispatched as
// c7a3b1f's src/ops/launch.ts did, so that the targets section times it side by side with
// whatever matmul the library has now, under the same load. Raw engine dispatches on the GPU
// buffers of realised tensors: nothing here depends on the ops layer.
import { engine, type Kernel } from '../src/node.js';
import src from './reference/matmul_rows_c7a3b1f.wgsl';

const R = 4; // rows of C per invocation (c7a3b1f's ROWS_R)
const U = 2; // values of k per loop iteration (ROWS_U)
const SKINNY_MAX = 16;

/** The subgroup width c7a3b1f's kernel shuffled across, or 0 (as its shuffleWidth()). */
function shuffleWidth(): number {
  const e = engine();
  const size = e.adapter.subgroupSize;
  return size && size <= 64 && e.device.features.has('subgroups' as GPUFeatureName) ? size : 0;
}

const kernels = new Map<string, Kernel>();

/** c7a3b1f's rowsKernel(N, lanes): the same generated WGSL. */
function rowsKernel(N: number, lanes: number): Kernel {
  const key = `c7a3b1f-rows|${N}|${lanes}`;
  const cached = kernels.get(key);
  if (cached) return cached;
  const WG = lanes || 8;
  const setup: string[] = [];
  for (let i = 0; i < R; i++) setup.push(`  let ra${i} = ab + min(base + ${i * WG}u, p.M - 1u) * p.aRow;`);
  for (let i = 0; i < R; i++) for (let j = 0; j < N; j++) setup.push(`  var c${i}_${j} = 0.0;`);
  const step = (ks: string[]): string => {
    const out: string[] = [];
    ks.forEach((kx, u) => {
      if (lanes) {
        for (let t = 0; t * lanes < N; t++) {
          out.push(`    let bl${u}_${t} = b[bb + (${kx}) * p.bRow + min(lane + ${t * lanes}u, ${N - 1}u) * p.bCol];`);
        }
        for (let j = 0; j < N; j++) out.push(`    let b${u}_${j} = subgroupShuffle(bl${u}_${Math.floor(j / lanes)}, ${j % lanes}u);`);
      } else {
        for (let j = 0; j < N; j++) out.push(`    let b${u}_${j} = b[bb + (${kx}) * p.bRow + ${j}u * p.bCol];`);
      }
      for (let i = 0; i < R; i++) out.push(`    let a${u}_${i} = a[ra${i} + (${kx}) * p.aCol];`);
    });
    for (let i = 0; i < R; i++) {
      for (let j = 0; j < N; j++) out.push(`    c${i}_${j} = c${i}_${j} + ${ks.map((_, u) => `a${u}_${i} * b${u}_${j}`).join(' + ')};`);
    }
    return out.join('\n');
  };
  const store: string[] = [];
  for (let i = 0; i < R; i++) {
    store.push(`  if (base + ${i * WG}u < p.M && batch < p.batch) {`);
    store.push(`    let cr = batch * p.cBatch + (base + ${i * WG}u) * p.cRow;`);
    for (let j = 0; j < N; j++) store.push(`    c[cr + ${j}u * p.cCol] = c${i}_${j};`);
    store.push('  }');
  }
  const vars: Record<string, string | number> = {
    ENABLE: lanes ? 'enable subgroups;' : '',
    LANE_ARG: lanes ? ', @builtin(subgroup_invocation_id) lane: u32' : '',
    SHUFFLE: lanes ? `across ${lanes} invocations` : 'here without subgroups: each invocation reads B itself',
    WG,
    R,
    U,
    SETUP: setup.join('\n'),
    STEP: step(Array.from({ length: U }, (_, u) => `k + ${u}u`)),
    STEP1: step(['k']),
    STORE: store.join('\n'),
  };
  const code = src.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in vars)) throw new Error(`reference matmul: the template needs {{${k}}}`);
    return String(vars[k]);
  });
  const k: Kernel = { key: code, code };
  kernels.set(key, k);
  return k;
}

/** A 2-D product C = op(A) op(B) as c7a3b1f computed it on a CPU adapter, on raw buffers. */
export interface ReferenceProduct {
  /** Records one dispatch writing C into its own buffer. */
  run(): void;
  /** C, read back (for checking the reference against the library's matmul). */
  read(): Promise<Float32Array>;
  free(): void;
}

/**
 * c7a3b1f's skinny product of row-major A (stored [aRows, aCols]) and B (stored [bRows, bCols]),
 * each possibly transposed; throws for shapes that commit did not send to this kernel
 * (C with more than 16 columns and rows) or adapters it would not use it on (not a CPU adapter).
 */
export function referenceSkinnyProduct(
  a: GPUBuffer, aShape: [number, number], b: GPUBuffer, bShape: [number, number], transA: boolean, transB: boolean,
): ReferenceProduct {
  const e = engine();
  if (!e.adapter.software) throw new Error('reference matmul: c7a3b1f ran its rows kernel on CPU adapters only; this adapter is a GPU, so there is no such baseline here');
  const M = transA ? aShape[1] : aShape[0];
  const K = transA ? aShape[0] : aShape[1];
  const N = transB ? bShape[0] : bShape[1];
  if ((transB ? bShape[1] : bShape[0]) !== K) throw new Error(`reference matmul: inner dims differ (${M}x${K} . ${transB ? bShape[1] : bShape[0]}x${N})`);
  if (N > SKINNY_MAX && M > SKINNY_MAX) throw new Error(`reference matmul: ${M}x${K} . ${K}x${N} has over ${SKINNY_MAX} rows and columns; c7a3b1f did not use its rows kernel for it`);
  const aRow = transA ? 1 : aShape[1];
  const aCol = transA ? aShape[1] : 1;
  const bRow = transB ? 1 : bShape[1];
  const bCol = transB ? bShape[1] : 1;
  const out = e.acquireBuffer(4 * M * N);
  const lanes = shuffleWidth();
  const direct = N <= SKINNY_MAX;
  const [m, n] = direct ? [M, N] : [N, M];
  const p = direct
    ? [m, n, K, 1, 0, aRow, aCol, 0, bRow, bCol, M * N, N, 1]
    : [m, n, K, 1, 0, bCol, bRow, 0, aCol, aRow, M * N, 1, N];
  const params = new Uint32Array([...p, 0, 0, 0]).buffer;
  const rows = (lanes || 8) * R;
  const kernel = rowsKernel(n, lanes);
  const buffers = direct ? [out, a, b] : [out, b, a];
  return {
    run: () => e.dispatch(kernel, buffers, params, [Math.ceil(m / rows), 1]),
    read: async () => new Float32Array(await e.read(out, 0, 4 * M * N)),
    free: () => e.releaseBuffer(out),
  };
}
