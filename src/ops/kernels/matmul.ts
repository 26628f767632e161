// The matmul kernels (shaders/matmul*.wgsl), the per-adapter choice among them, and their
// launch. Nothing here knows about autodiff.
import matmulSrc from '../../../shaders/matmul.wgsl';
import matmulSkinnySrc from '../../../shaders/matmul_skinny.wgsl';
import matmulRowsSrc from '../../../shaders/matmul_rows.wgsl';
import matmulTiledSrc from '../../../shaders/matmul_tiled.wgsl';
import matmulParamsSrc from '../../../shaders/matmul_params.wgsl';
import { engine } from '../../gpu/device.js';
import type { Binding, Kernel } from '../../gpu/engine.js';
import { empty, type Shape, type Storage, type Tensor } from '../../tensor.js';
import { textureForm, textureGroups, textureKernel } from './matmul-texture.js';
import { matrixTexture } from './matrix-texture.js';
import { elementwise } from './elementwise.js';
import { checkInputs, grid, kernel, memoKernel, WG } from './template.js';
import { graphFunction, type Graph, type GraphFunction } from './graph-function.js';
import { paramLayout } from './params.js';

/**
 * The parameter block every matmul kernel shares: C[batch] = op(A)[batch] op(B)[batch], each
 * operand addressed through strides (a batch stride of 0 broadcasts; a transposed operand swaps
 * its row and column strides); C's own strides serve the kernel that writes C transposed.
 */
const MATMUL_FIELDS = {
  M: 'u32', N: 'u32', K: 'u32', batch: 'u32',
  aBatch: 'u32', aRow: 'u32', aCol: 'u32',
  bBatch: 'u32', bRow: 'u32', bCol: 'u32',
  cBatch: 'u32', cRow: 'u32', cCol: 'u32',
} as const;
const MATMUL_PARAMS = paramLayout(MATMUL_FIELDS);

/**
 * The parameter struct, the bindings and the `store(i, v)` shared by the matmul kernels, with B's
 * element type; with an epilogue, its function, its parameters after the matmul's, and stores
 * through it.
 */
export function matmulParams(bType: string, epi: EpilogueLaunch | undefined, aTexture = false): string {
  // With C kept, the epilogue's result has a binding of its own (2), before A's and B's.
  const keep = epi?.out !== undefined;
  return matmulParamsSrc
    .replace('{{PARAMS}}', (epi?.fn.params ?? MATMUL_PARAMS).wgsl)
    .replace('{{A_AT}}', keep ? '3' : '2')
    .replace('{{A_TYPE}}', aTexture ? ' a: texture_2d<f32>' : '<storage, read> a: array<f32>')
    .replace('{{B_AT}}', keep ? '4' : '3')
    .replace('{{B_T}}', bType)
    .replace('{{EPILOGUE}}', !epi ? '' : `${keep ? '@group(0) @binding(2) var<storage, read_write> e: array<f32>;\n' : ''}${epi.fn.code}`)
    .replace('{{STORE}}', !epi ? 'c[i] = v;' : keep ? 'c[i] = v;\n  e[i] = epilogue(i, v);' : 'c[i] = epilogue(i, v);');
}

/** An epilogue as a launch gets it: its function, and where its result goes when C is stored too. */
export interface EpilogueLaunch {
  fn: Epilogue;
  /** The epilogue's result, when C is written to `out` as well; else C's own buffer gets it. */
  out?: GPUBuffer;
}

/** A matmul kernel as the engine takes it: two writable bindings when an epilogue's result sits beside C. */
export function matmulKernel(k: Kernel, epi: EpilogueLaunch | undefined, aTexture = false): Kernel {
  const writable = epi?.out ? 2 : 1;
  return { ...k, writable, ...(aTexture ? { textures: [writable + 1] } : {}) };
}

/** The part of kernel cache keys that an epilogue adds. */
export function epiKey(epi: EpilogueLaunch | undefined): string {
  return epi ? `${epi.fn.key}|${epi.out ? 'keep' : ''}` : '';
}

/**
 * A pending elementwise graph over C computed as the matmul stores C (one kernel, C never written
 * out on its own): made by {@link matmulEpilogue}.
 */
export type Epilogue = GraphFunction;

/**
 * `graph` (whose `{ acc }` argument is C's element) as the epilogue of a matmul with output
 * `shape`, or null when the kernel's parameters would not fit (then compute C first).
 */
export function matmulEpilogue(graph: Graph, shape: readonly number[], keepC: boolean): Epilogue | null {
  return graphFunction(graph, shape, 'f32', {
    role: 'epilogue', firstBinding: keepC ? 5 : 4, fields: MATMUL_FIELDS, host: keepC ? 'matmul, C kept' : 'matmul', hostOp: 'matmul',
    note: keepC
      ? 'then the matmul kernel (shaders/matmul*.wgsl, chosen per shape and adapter) stores each element i of C, and epilogue(i, acc) in e'
      : 'then the matmul kernel (shaders/matmul*.wgsl, chosen per shape and adapter) stores epilogue(i, acc) in place of each element i of C',
  });
}
/** A batched matrix product C = op(A) op(B) as the kernels see it: sizes and element strides. */
export interface MatmulLayout {
  /** Rows of C. */
  M: number;
  /** Columns of C. */
  N: number;
  /** The inner dimension (columns of op(A), rows of op(B)). */
  K: number;
  /** Number of matrices in the batch (1 for a 2-D product). */
  batch: number;
  /** Stride of A between batch entries (0 when A is broadcast). */
  aBatch: number;
  /** Stride of op(A) between rows. */
  aRow: number;
  /** Stride of op(A) between columns. */
  aCol: number;
  /** Stride of B between batch entries (0 when B is broadcast). */
  bBatch: number;
  /** Stride of op(B) between rows. */
  bRow: number;
  /** Stride of op(B) between columns. */
  bCol: number;
}

/** The matmul kernels: 'rows', 'texture', 'splitk', 'blocked' and 'tiled' (see {@link matmulVariant} for which shapes get which). */
export type MatmulVariantName = 'rows' | 'texture' | 'splitk' | 'blocked' | 'tiled';

/**
 * Every matmul kernel: 'rows' (CPU adapters, few columns or few rows: each invocation owns rows
 * of C, B's values shared through subgroup shuffles), 'splitk' (GPUs, few columns: a workgroup
 * per row of C splits K, so A is read once with coalesced loads), 'blocked' (CPU adapters: an
 * 8x8 block of C per invocation in registers), 'tiled' (GPUs: workgroup-memory tiles).
 */
const MATMUL_VARIANTS: MatmulVariantName[] = ['rows', 'texture', 'splitk', 'blocked', 'tiled'];

/** C's columns (or rows, for 'rows') up to which the few-column kernels apply. */
const SKINNY_MAX = 16;

let matmulOverride: MatmulVariantName | null = null;

/** Every matmul kernel variant, for tests and benchmarks that force each in turn. */
export function matmulVariants(): MatmulVariantName[] {
  return [...MATMUL_VARIANTS];
}

/**
 * Benchmarks and tests force a variant with this (shapes a variant does not cover keep the
 * automatic choice); null restores the automatic choice.
 */
export function forceMatmulVariant(v: MatmulVariantName | null): void {
  if (v !== null && !MATMUL_VARIANTS.includes(v)) throw new Error(`hypertape: no matmul variant '${v}'; variants: ${MATMUL_VARIANTS.join(', ')}`);
  matmulOverride = v;
}

/** The subgroup size 'rows' may assume for shuffles, or 0 when the device has no fixed one. */
function shuffleWidth(): number {
  const e = engine();
  const size = e.adapter.subgroupSize;
  return size && size <= 64 && e.device.features.has('subgroups' as GPUFeatureName) ? size : 0;
}

/**
 * Which kernel a shape gets on this adapter (measured with `npm run bench`; docs/methods.md section 3).
 * CPU adapters: 'rows' when C has at most 16 columns or rows and subgroups can share B's values,
 * else 'blocked'. GPUs: 'splitk' for the memory-bound few-column shapes with rows of A contiguous,
 * else 'tiled'.
 */
export function matmulVariant(l: MatmulLayout): MatmulVariantName {
  const forced = matmulOverride;
  const rowsFits = l.N <= SKINNY_MAX || l.M <= SKINNY_MAX;
  if (forced === 'rows' && rowsFits) return 'rows';
  if (forced === 'texture' && rowsFits && shuffleWidth() > 0) return 'texture';
  if (forced === 'splitk' && l.N <= SKINNY_MAX) return 'splitk';
  if (forced === 'blocked' || forced === 'tiled') return forced;
  if (engine().adapter.software) return rowsFits && shuffleWidth() > 0 ? 'rows' : 'blocked';
  return l.N <= SKINNY_MAX && l.K >= 64 && l.aCol === 1 ? 'splitk' : 'tiled';
}

/** The register-blocked kernel with 8x8 blocks; B as vec4 when `bVec4`. */
function blockedKernel(bVec4: boolean, epi?: EpilogueLaunch): Kernel {
  return memoKernel(`matmulBlocked|${bVec4}|${epiKey(epi)}`, () => {
    const RM = 8;
    const RN = 8;
    const setup: string[] = [];
    const step: string[] = [];
    const store: string[] = [];
    for (let i = 0; i < RM; i++) setup.push(`  let ra${i} = ab + min(row0 + ${i}u, p.M - 1u) * p.aRow;`);
    if (!bVec4) for (let j = 0; j < RN; j++) setup.push(`  let cb${j} = bb + min(col0 + ${j}u, p.N - 1u) * p.bCol;`);
    for (let i = 0; i < RM; i++) for (let v = 0; v < RN / 4; v++) setup.push(`  var acc${i}_${v} = vec4<f32>(0.0);`);
    for (let v = 0; v < RN / 4; v++) {
      // vec4 path: bb, k * bRow and col0 are multiples of 4; columns past N read the next row's
      // values, which the guarded stores drop.
      step.push(bVec4
        ? `    let bv${v} = b[(bb + k * p.bRow + col0) / 4u + ${v}u];`
        : `    let bv${v} = vec4<f32>(${[0, 1, 2, 3].map((q) => `b[k * p.bRow + cb${4 * v + q}]`).join(', ')});`);
    }
    for (let i = 0; i < RM; i++) {
      step.push(`    let av${i} = a[ra${i} + k * p.aCol];`);
      for (let v = 0; v < RN / 4; v++) step.push(`    acc${i}_${v} = acc${i}_${v} + av${i} * bv${v};`);
    }
    for (let i = 0; i < RM; i++) {
      store.push(`  if (row0 + ${i}u < p.M) {`);
      for (let j = 0; j < RN; j++) store.push(`    if (col0 + ${j}u < p.N) { store(cbase + (row0 + ${i}u) * p.N + col0 + ${j}u, acc${i}_${j >> 2}[${j & 3}]); }`);
      store.push('  }');
    }
    return matmulKernel(kernel(matmulSrc, { RM, RN, MATMUL_PARAMS: matmulParams(bVec4 ? 'vec4<f32>' : 'f32', epi), SETUP: setup.join('\n'), STEP: step.join('\n'), STORE: store.join('\n') }), epi);
  });
}

const ROWS_R = 4; // rows of C per invocation (2, 4 and 8 measured: 4 is fastest on lavapipe)
const ROWS_U = 2; // values of k per loop iteration (1, 2 and 4 measured)

/**
 * WGSL lines giving every invocation B's N values at row `k` of op(B), as `<name>0` ..
 * `<name>N-1`: read by different invocations of a subgroup of `lanes` and handed around with
 * subgroupShuffle (on lavapipe each load costs per invocation). With `guard`, rows past K read 0.
 * Shared by the 'rows' and 'texture' kernels.
 */
export function sharedB(name: string, k: string, N: number, lanes: number, guard: string | null = null): string[] {
  const out: string[] = [];
  const row = guard ? `min(${k}, p.K - 1u)` : `(${k})`;
  for (let t = 0; t * lanes < N; t++) {
    const read = `b[bb + ${row} * p.bRow + min(lane + ${t * lanes}u, ${N - 1}u) * p.bCol]`;
    out.push(`    let ${name}l${t} = ${guard ? `select(0.0, ${read}, ${guard})` : read};`);
  }
  for (let j = 0; j < N; j++) out.push(`    let ${name}${j} = subgroupShuffle(${name}l${Math.floor(j / lanes)}, ${j % lanes}u);`);
  return out;
}

/**
 * WGSL lines storing row `row` (an expression) of C, when it is in range, from the N values
 * `value(j)`, through C's strides. Shared by the 'rows' and 'texture' kernels.
 */
export function storeRow(row: string, N: number, value: (j: number) => string): string[] {
  const out = [`  if (${row} < p.M && batch < p.batch) {`, `    let cr = batch * p.cBatch + (${row}) * p.cRow;`];
  for (let j = 0; j < N; j++) out.push(`    store(cr + ${j}u * p.cCol, ${value(j)});`);
  out.push('  }');
  return out;
}

/** The 'rows' kernel for N columns; B shared through shuffles across `lanes` when lanes > 0. */
function rowsKernel(N: number, lanes: number, epi?: EpilogueLaunch): Kernel {
  const R = ROWS_R;
  return memoKernel(`matmulRows|${N}|${lanes}|${epiKey(epi)}`, () => {
    const WG = lanes || 8;
    const setup: string[] = [];
    for (let i = 0; i < R; i++) setup.push(`  let ra${i} = ab + min(base + ${i * WG}u, p.M - 1u) * p.aRow;`);
    for (let i = 0; i < R; i++) for (let j = 0; j < N; j++) setup.push(`  var c${i}_${j} = 0.0;`);
    // One assignment per accumulator per loop iteration: in a loop each assignment costs
    // lavapipe a masked blend, so the U products go into one expression (c + a0 b0 + a1 b1,
    // which WGSL evaluates left to right: each product is still added to c in turn).
    const step = (ks: string[]): string => {
      const out: string[] = [];
      ks.forEach((kx, u) => {
        if (lanes) out.push(...sharedB(`b${u}_`, kx, N, lanes));
        else {
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
    for (let i = 0; i < R; i++) store.push(...storeRow(`base + ${i * WG}u`, N, (j) => `c${i}_${j}`));
    return matmulKernel(kernel(matmulRowsSrc, {
      MATMUL_PARAMS: matmulParams('f32', epi),
      ENABLE: lanes ? 'enable subgroups;' : '',
      LANE_ARG: lanes ? ', @builtin(subgroup_invocation_id) lane: u32' : '',
      SHUFFLE: lanes ? `across ${lanes} invocations` : 'here without subgroups: each invocation reads B itself',
      WG,
      R,
      U: ROWS_U,
      SETUP: setup.join('\n'),
      STEP: step(Array.from({ length: ROWS_U }, (_, u) => `k + ${u}u`)),
      STEP1: step(['k']),
      STORE: store.join('\n'),
    }), epi);
  });
}

/** The rows of C (or of C^T) one workgroup of the 'rows' kernel covers. */
function rowsPerGroup(): number {
  return (shuffleWidth() || 8) * ROWS_R;
}

/** The workgroup grid of `variant` for this product. */
function gridOf(variant: MatmulVariantName, l: MatmulLayout): [number, number, number] {
  switch (variant) {
    case 'rows': case 'texture': return [Math.ceil((l.N <= SKINNY_MAX ? l.M : l.N) / rowsPerGroup()), l.batch, 1];
    case 'splitk': { const [x, y] = grid(l.M * l.batch * WG, WG); return [x, y, 1]; }
    case 'tiled': return [Math.ceil(l.N / 32), Math.ceil(l.M / 32), l.batch];
    case 'blocked': return [Math.ceil(l.N / 64), Math.ceil(l.M / 64), l.batch];
  }
}

/**
 * The kernel this product gets and its grid; throws, with the shapes, when the grid would pass
 * the device's 65,535 workgroups per dimension (the lazy matmul checks when it is made, not when
 * computed).
 */
export function checkMatmulGrid(l: MatmulLayout): { variant: MatmulVariantName; grid: [number, number, number] } {
  const variant = matmulVariant(l);
  const dims = gridOf(variant, l);
  if (dims.some((d) => d > 65535)) {
    throw new Error(`hypertape: matmul of ${l.batch} x [${l.M}, ${l.K}] @ [${l.K}, ${l.N}] needs a ${variant} grid of [${dims.filter((d, i) => i < 2 || d > 1).join(', ')}] workgroups, over the limit of 65,535 per dimension`);
  }
  return { variant, grid: dims };
}

/** C = op(A) op(B) into a new tensor of `outShape`, now (one dispatch). The caller checked the shapes. */
export function matmulLaunch(a: Tensor, b: Tensor, l: MatmulLayout, outShape: Shape): Tensor {
  checkInputs(a, b);
  const out = empty(outShape);
  if (l.K === 0) {
    elementwise({ shape: outShape, expr: '0.0', inputs: [], out: { tensor: out } });
    return out;
  }
  try {
    matmulBuffers(out.buffer, a.storage, b.storage, l);
    return out;
  } catch (e) {
    out.dispose(); // a grid over the device's limits throws before anything is encoded
    throw e;
  }
}

/**
 * C = op(A) op(B) into `out` (C contiguous); with an epilogue (made by {@link matmulEpilogue}
 * for this C's shape), epilogue(C) into `out` instead, or into `epi.out` with C into `out`.
 * One dispatch; K >= 1 (matmulLaunch fills K = 0).
 */
export function matmulBuffers(out: GPUBuffer, as: Storage, bs: Storage, l: MatmulLayout, epi?: EpilogueLaunch): void {
  const [a, b] = [as.buffer, bs.buffer];
  if (l.M * l.N * l.batch === 0) return;
  if (l.K === 0) throw new Error('hypertape internal: matmulBuffers with K = 0 (matmulLaunch fills zeros)');
  const buffers: Binding[] = [out, ...(epi?.out ? [epi.out] : []), a, b, ...(epi?.fn.buffers ?? [])];
  const ia = epi?.out ? 2 : 1; // where A's buffer is in `buffers` (B's follows)
  const pack = (p: Record<keyof typeof MATMUL_FIELDS, number>) => (epi ? epi.fn.params.pack({ ...epi.fn.values, ...p }) : MATMUL_PARAMS.pack(p));
  const { variant, grid: g } = checkMatmulGrid(l);
  if (variant === 'rows' || variant === 'texture') {
    // Few columns: C = op(A) op(B) directly. Few rows: C^T = op(B)^T op(A)^T, written transposed.
    const lanes = shuffleWidth();
    const direct = l.N <= SKINNY_MAX;
    const [M, N] = direct ? [l.M, l.N] : [l.N, l.M];
    const p = direct
      ? { M, N, K: l.K, batch: l.batch, aBatch: l.aBatch, aRow: l.aRow, aCol: l.aCol, bBatch: l.bBatch, bRow: l.bRow, bCol: l.bCol, cBatch: l.M * l.N, cRow: l.N, cCol: 1 }
      : { M, N, K: l.K, batch: l.batch, aBatch: l.bBatch, aRow: l.bCol, aCol: l.bRow, bBatch: l.aBatch, bRow: l.aCol, bCol: l.aRow, cBatch: l.M * l.N, cRow: 1, cCol: l.N };
    if (!direct) [buffers[ia], buffers[ia + 1]] = [b, a];
    // A read from a texture copy when it is a plain matrix read again and again (or when forced;
    // a forced 'rows' never reads one).
    const f = lanes && (variant === 'texture' || matmulOverride === null) ? textureForm(p) : null;
    const view = f && matrixTexture(direct ? as : bs, f.rows, f.cols, variant === 'texture');
    if (f && view) {
      buffers[ia] = view;
      engine().dispatch(textureKernel(f.form, N, lanes, epi), buffers, pack(p), [textureGroups(f, M, lanes), l.batch]);
    } else engine().dispatch(rowsKernel(N, lanes, epi), buffers, pack(p), g);
    return;
  }
  // C contiguous: cBatch = M N, cRow = N, cCol = 1 (only the rows kernel writes C transposed).
  const params = pack({ ...l, cBatch: l.M * l.N, cRow: l.N, cCol: 1 });
  if (variant === 'splitk') {
    const NN = l.N <= 4 ? 4 : l.N <= 8 ? 8 : 16;
    const k = memoKernel(`matmulSplitk|${NN}|${epiKey(epi)}`, () => matmulKernel(kernel(matmulSkinnySrc, { NN, WG, MATMUL_PARAMS: matmulParams('f32', epi) }), epi));
    engine().dispatch(k, buffers, params, g);
  } else if (variant === 'tiled') {
    const k = memoKernel(`matmulTiled|${epiKey(epi)}`, () => matmulKernel(kernel(matmulTiledSrc, { MATMUL_PARAMS: matmulParams('f32', epi) }), epi));
    engine().dispatch(k, buffers, params, g);
  } else {
    const bVec4 = l.bCol === 1 && l.bRow % 4 === 0 && l.bBatch % 4 === 0;
    engine().dispatch(blockedKernel(bVec4, epi), buffers, params, g);
  }
}
