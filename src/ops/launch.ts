// Kernel instantiation and launch: fills the WGSL templates in shaders/ and dispatches them.
// Ops (src/ops/*.ts) call these; nothing here knows about autodiff.
import elementwiseSrc from '../../shaders/elementwise.wgsl';
import reduceSrc from '../../shaders/reduce.wgsl';
import reduceRowsSrc from '../../shaders/reduce_rows.wgsl';
import matmulSrc from '../../shaders/matmul.wgsl';
import matmulSkinnySrc from '../../shaders/matmul_skinny.wgsl';
import matmulRowsSrc from '../../shaders/matmul_rows.wgsl';
import matmulTiledSrc from '../../shaders/matmul_tiled.wgsl';
import matmulParamsSrc from '../../shaders/matmul_params.wgsl';

/** The uniform block and bindings shared by the matmul kernels, with B's element type. */
function matmulParams(bType = 'f32'): string {
  return matmulParamsSrc.replace('{{B_T}}', bType);
}
import randomSrc from '../../shaders/random.wgsl';
import trigSrc from '../../shaders/trig.wgsl';
import gatherSrc from '../../shaders/gather.wgsl';
import oneHotSrc from '../../shaders/one_hot.wgsl';
import { engine } from '../gpu/device.js';
import type { Kernel } from '../gpu/engine.js';
import { empty, Tensor, sizeOf, type DType, type Shape } from '../tensor.js';

const kernelCache = new Map<string, Kernel>();

/** A template with {{NAME}} holes filled in; cached by its filled text. */
export function kernel(template: string, vars: Record<string, string | number>): Kernel {
  const code = template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in vars)) throw new Error(`hypertape internal: kernel template needs {{${k}}}`);
    return String(vars[k]);
  });
  let k = kernelCache.get(code);
  if (!k) kernelCache.set(code, (k = { key: code, code }));
  return k;
}

const kernelsByKey = new Map<string, Kernel>();

/**
 * The kernel for a short key, built by `make` the first time: launches name their kernel by its
 * parameters and skip filling the template (and hashing its text) on every dispatch.
 */
function memoKernel(key: string, make: () => Kernel): Kernel {
  let k = kernelsByKey.get(key);
  if (!k) kernelsByKey.set(key, (k = make()));
  return k;
}

/** Workgroups for `n` invocations of `wg` each, folded into 2-D past the 65,535 limit. */
export function grid(n: number, wg: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= 65535) return [groups, 1];
  const x = 32768;
  return [x, Math.ceil(groups / x)];
}

export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** One operand of an elementwise launch: a tensor read (or written) at offset + sum(c_d * strides_d). */
export interface Operand {
  tensor: Tensor;
  offset?: number;
  /** Strides over the iteration shape; defaults to contiguous. 0 broadcasts. */
  strides?: readonly number[];
}

const WG = 64;
const MAX_RANK = 8;

/** Merges neighbouring dims that every operand walks contiguously, so most launches are rank 1. */
function collapse(shape: Shape, strides: number[][]): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => st[k]![last] === s[d]! * shape[d]!)) {
      dims[last]! *= shape[d]!;
      strides.forEach((s, k) => (st[k]![last] = s[d]!));
    } else {
      dims.push(shape[d]!);
      strides.forEach((s, k) => st[k]!.push(s[d]!));
    }
  }
  return { shape: dims, strides: st };
}

/**
 * How launches are shaped for the current adapter. CPU implementations (lavapipe, llvmpipe) pay
 * a fixed cost per workgroup (about as much as a few hundred elements of an add), so the kernels
 * with a grid-stride loop (elementwise, reductions, random, gather, one-hot) get at most
 * `maxGroups` workgroups there, 64 by default (measured: 16 to 256 all within noise); GPUs get
 * one invocation per unit of work. Tests and benchmarks may override the automatic choice.
 */
export const launchTuning: { maxGroups: number | null } = { maxGroups: null };

function groupCap(): number {
  return launchTuning.maxGroups ?? (engine().adapter.software ? 64 : Infinity);
}

/** The grid for `units` units of work in kernels with a grid-stride loop of 64-invocation workgroups. */
export function cappedGrid(units: number): [number, number] {
  return grid(Math.min(Math.ceil(units / WG), groupCap()) * WG, WG);
}

type Mode = 'contig' | 'scalar' | 'strided';

/** The elementwise kernel for an expression, operand modes and dtypes; built once per combination. */
function elementwiseKernel(expr: string, modes: Mode[], rank: number, dtypes: DType[], vec4: boolean): Kernel {
  return memoKernel(`elementwise|${expr}|${modes.join(',')}|${rank}|${dtypes.join(',')}|${vec4}`, () => buildElementwise(expr, modes, rank, dtypes, vec4));
}

function buildElementwise(expr: string, modes: Mode[], rank: number, dtypes: DType[], vec4: boolean): Kernel {
  const vec = ['x', 'y', 'z', 'w'];
  const names = ['out', 'in0', 'in1', 'in2'];
  const letters = ['a', 'b', 'c'];
  const elem = (d: DType) => (d === 'i32' ? 'i32' : 'f32');
  const type = (d: DType) => (vec4 ? `vec4<${elem(d)}>` : elem(d));
  const bindings = dtypes.slice(1)
    .map((d, j) => `@group(0) @binding(${j + 2}) var<storage, read> in${j}: array<${type(d)}>;`)
    .join('\n');
  let unit = '';
  if (vec4) {
    // Every operand is contiguous (offset in vec4s) or one broadcast element (offset in elements).
    modes.forEach((m, j) => {
      if (j === 0) return;
      const at = m === 'scalar'
        ? `${names[j]}[p.offsets.${vec[j]} / 4u][p.offsets.${vec[j]} % 4u]`
        : `${names[j]}[u + p.offsets.${vec[j]}]`;
      unit += `    let v${j} = ${at};\n`;
    });
    unit += `    var r: vec4<${elem(dtypes[0]!)}>;\n`;
    for (let c = 0; c < 4; c++) {
      unit += `    {\n      let i = 4u * u + ${c}u;\n`;
      modes.forEach((m, j) => {
        if (j > 0) unit += `      let ${letters[j - 1]} = v${j}${m === 'scalar' ? '' : `[${c}]`};\n`;
      });
      unit += `      r[${c}] = ${expr};\n    }\n`;
    }
    unit += '    out[u + p.offsets.x] = r;';
  } else {
    unit += '    let i = u;\n';
    if (modes.includes('strided')) {
      unit += '    var rem = i;\n';
      modes.forEach((m, j) => {
        if (m === 'strided') unit += `    var ix${j}: u32 = p.offsets.${vec[j]};\n`;
      });
      for (let d = rank - 1; d >= 0; d--) {
        const dim = `p.shape[${d >> 2}].${vec[d & 3]}`;
        unit += d > 0 ? `    let c${d} = rem % ${dim};\n    rem = rem / ${dim};\n` : '    let c0 = rem;\n';
        modes.forEach((m, j) => {
          if (m === 'strided') unit += `    ix${j} = ix${j} + c${d} * p.strides[${2 * j + (d >> 2)}].${vec[d & 3]};\n`;
        });
      }
    }
    modes.forEach((m, j) => {
      if (m === 'contig') unit += `    let ix${j} = i + p.offsets.${vec[j]};\n`;
      if (m === 'scalar') unit += `    let ix${j} = p.offsets.${vec[j]};\n`;
    });
    unit += dtypes.slice(1).map((_, j) => `    let ${letters[j]} = in${j}[ix${j + 1}];\n`).join('');
    unit += `    out[ix0] = ${expr};`;
  }
  // The elements after the last whole vec4: invocation 0 updates only those lanes of one more vec4
  // (buffers are allocated in 64-byte steps, so the vec4 lies inside them).
  const tail = vec4 ? unit
    .replace('    out[u + p.offsets.x] = r;', '    let keep = out[u + p.offsets.x];\n    out[u + p.offsets.x] = select(keep, r, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.tail));')
    .replace(/^/gm, '  ')
    .replace(/^/, '  if (first == 0u && p.tail > 0u) {\n    let u = p.units;\n') + '\n  }' : '';
  return kernel(elementwiseSrc, { OUT_T: type(dtypes[0]!), BINDINGS: bindings, WG, UNIT: unit, TAIL: tail, TRIG: trigSrc });
}

// One parameter block, reused: dispatch() copies it out at once.
const elementwiseParams = new ArrayBuffer(208);
const elementwiseParamsU32 = new Uint32Array(elementwiseParams);
const elementwiseParamsF32 = new Float32Array(elementwiseParams);

/**
 * out = expr(a, b, c) over `shape`. `expr` is WGSL over the names a, b, c (the inputs in order),
 * i (the element's index) and p.scalars; e.g. 'a * b', 'exp(a)', 'select(c, b, a != 0.0)'.
 */
export function elementwise(opts: {
  shape: Shape;
  expr: string;
  inputs: Operand[];
  outDtype?: DType;
  out?: Operand;
  scalars?: readonly number[];
}): Tensor {
  const { shape, inputs } = opts;
  const n = sizeOf(shape);
  const outT = opts.out?.tensor ?? empty(shape, opts.outDtype ?? 'f32');
  if (n === 0) return outT;
  const contig = contiguousStrides(shape);
  const operands: Operand[] = [opts.out ?? { tensor: outT }, ...inputs];
  const c = collapse(shape, operands.map((o) => [...(o.strides ?? contig)]));
  if (c.shape.length > MAX_RANK) throw new Error(`hypertape: elementwise ops support rank <= ${MAX_RANK} after merging dims, got ${shapeText(shape)}`);
  const ccontig = contiguousStrides(c.shape);
  const modes = operands.map((_, k): Mode => {
    const s = c.strides[k]!;
    if (s.every((v) => v === 0)) return 'scalar';
    if (s.every((v, d) => v === ccontig[d])) return 'contig';
    return 'strided';
  });
  const offsets = operands.map((o) => o.offset ?? 0);
  // vec4 units when no operand needs index arithmetic and the contiguous ones start on 16 bytes.
  const vec4 = n >= 4 && modes[0] === 'contig' &&
    modes.every((m, k) => m === 'scalar' || (m === 'contig' && offsets[k]! % 4 === 0));
  const k = elementwiseKernel(opts.expr, modes, c.shape.length, operands.map((o) => o.tensor.dtype), vec4);

  const params = elementwiseParams;
  const u = elementwiseParamsU32;
  const f = elementwiseParamsF32;
  u.fill(0);
  const units = vec4 ? Math.floor(n / 4) : n;
  u[0] = n;
  u[1] = units;
  u[2] = vec4 ? n % 4 : 0;
  c.shape.forEach((d, i) => (u[4 + i] = d));
  offsets.forEach((o, k) => (u[12 + k] = vec4 && modes[k] === 'contig' ? o / 4 : o));
  c.strides.forEach((s, k) => s.forEach((v, d) => (u[16 + 8 * k + d] = v)));
  (opts.scalars ?? []).forEach((v, i) => (f[48 + i] = v));
  const buffers = operands.map((o) => o.tensor.buffer);
  engine().dispatch(k, buffers, params, cappedGrid(units));
  return outT;
}

function shapeText(s: Shape): string {
  return `[${s.join(', ')}]`;
}

// ---- reductions ---------------------------------------------------------------------------

export type ReduceKind = 'sum' | 'max' | 'argmax';

// Written for T = f32 or vec4<f32> (U = u32 or vec4<u32>): a vec4 unit reduces 4 outputs at once.
const REDUCE: Record<ReduceKind, { init: string; combine: string; result: string; scalar: string }> = {
  sum: { init: '{{T}}(0.0)', combine: 'acc = acc + v;', result: 'acc', scalar: 'acc = acc + v;' },
  max: { init: '{{T}}(neg_inf())', combine: 'acc = max(acc, v);', result: 'acc', scalar: 'acc = max(acc, v);' },
  argmax: {
    init: '{{T}}(neg_inf())',
    combine: 'let better = v > acc; arg = select(arg, {{U}}(r), better); acc = select(acc, v, better);',
    result: '{{T}}(arg)',
    scalar: '',
  },
};

function reduceKernel(kind: ReduceKind, vec4: boolean): Kernel {
  return memoKernel(`reduce|${kind}|${vec4}`, () => {
    const [T, U] = vec4 ? ['vec4<f32>', 'vec4<u32>'] : ['f32', 'u32'];
    const spec = REDUCE[kind];
    const fill = (t: string) => t.replace(/\{\{T\}\}/g, T).replace(/\{\{U\}\}/g, U);
    return kernel(reduceSrc, { WG, T, U, INIT: fill(spec.init), COMBINE: fill(spec.combine), RESULT: fill(spec.result) });
  });
}

function reduceRowsKernel(kind: 'sum' | 'max', vec4: boolean): Kernel {
  return memoKernel(`reduceRows|${kind}|${vec4}`, () => {
    const combine = REDUCE[kind].scalar;
    const loop = vec4
      ? `    for (var q = (row + start) / 4u + lid.x; q < (row + stop) / 4u; q = q + ${WG}u) {
      let v4 = x[q];
      ${[0, 1, 2, 3].map((c) => `{ let v = v4[${c}]; ${combine} }`).join('\n      ')}
    }`
      : `    for (var r = start + lid.x; r < stop; r = r + ${WG}u) {
      let v = x[row + r];
      ${combine}
    }`;
    return kernel(reduceRowsSrc, {
      WG,
      X_T: vec4 ? 'vec4<f32>' : 'f32',
      INIT: kind === 'sum' ? '0.0' : 'neg_inf()',
      LOOP: loop,
      COMBINE2: kind === 'sum' ? 'mine = mine + v;' : 'mine = max(mine, v);',
    });
  });
}

/** Reduces x, viewed as [A, R, B] (contiguous), over R into a new [A, B] tensor. */
export function reduceARB(x: Tensor, A: number, R: number, B: number, kind: ReduceKind): Tensor {
  if (B === 1 && R >= 256 && kind !== 'argmax') {
    // Long rows: tree reduction per (row, chunk), then the partials. Chunks start on 16 bytes
    // when rows do, so that they can be read as vec4.
    const C = A >= 64 ? 1 : Math.min(Math.ceil(R / 1024), Math.ceil(64 / A));
    const vec4 = R % 4 === 0;
    const chunk = vec4 ? Math.ceil(R / C / 4) * 4 : Math.ceil(R / C);
    const partial = empty([A, C]);
    engine().dispatch(reduceRowsKernel(kind, vec4), [partial.buffer, x.buffer], new Uint32Array([A, R, C, chunk]).buffer, grid(A * C * WG, WG));
    if (C === 1) return partial;
    const out = reduceARB(partial, A, C, 1, kind);
    partial.dispose();
    return out;
  }
  const out = empty([A, B]);
  const vec4 = B % 4 === 0;
  const units = (A * B) / (vec4 ? 4 : 1);
  engine().dispatch(reduceKernel(kind, vec4), [out.buffer, x.buffer], new Uint32Array([A, R, vec4 ? B / 4 : B, 0]).buffer, cappedGrid(units));
  return out;
}

// ---- matmul -------------------------------------------------------------------------------

export interface MatmulLayout {
  M: number;
  N: number;
  K: number;
  batch: number;
  aBatch: number;
  aRow: number;
  aCol: number;
  bBatch: number;
  bRow: number;
  bCol: number;
}

export type MatmulVariantName = 'rows' | 'splitk' | 'blocked' | 'tiled';

/**
 * Every matmul kernel: 'rows' (CPU adapters, few columns or few rows: each invocation owns rows
 * of C, B's values shared through subgroup shuffles), 'splitk' (GPUs, few columns: a workgroup
 * per row of C splits K, so A is read once with coalesced loads), 'blocked' (CPU adapters: an
 * 8x8 block of C per invocation in registers), 'tiled' (GPUs: workgroup-memory tiles).
 */
const MATMUL_VARIANTS: MatmulVariantName[] = ['rows', 'splitk', 'blocked', 'tiled'];

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
 * Which kernel a shape gets on this adapter (measured with `npm run bench`; design.md section 4).
 * CPU adapters: 'rows' when C has at most 16 columns or rows and subgroups can share B's values,
 * else 'blocked'. GPUs: 'splitk' for the memory-bound few-column shapes with rows of A contiguous,
 * else 'tiled'.
 */
export function matmulVariant(l: MatmulLayout): MatmulVariantName {
  const forced = matmulOverride;
  const rowsFits = l.N <= SKINNY_MAX || l.M <= SKINNY_MAX;
  if (forced === 'rows' && rowsFits) return 'rows';
  if (forced === 'splitk' && l.N <= SKINNY_MAX) return 'splitk';
  if (forced === 'blocked' || forced === 'tiled') return forced;
  if (engine().adapter.software) return rowsFits && shuffleWidth() > 0 ? 'rows' : 'blocked';
  return l.N <= SKINNY_MAX && l.K >= 64 && l.aCol === 1 ? 'splitk' : 'tiled';
}

/** The register-blocked kernel with 8x8 blocks; B as vec4 when `bVec4`. */
function blockedKernel(bVec4: boolean): Kernel {
  return memoKernel(`matmulBlocked|${bVec4}`, () => {
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
      for (let j = 0; j < RN; j++) store.push(`    if (col0 + ${j}u < p.N) { c[cbase + (row0 + ${i}u) * p.N + col0 + ${j}u] = acc${i}_${j >> 2}[${j & 3}]; }`);
      store.push('  }');
    }
    return kernel(matmulSrc, { RM, RN, MATMUL_PARAMS: matmulParams(bVec4 ? 'vec4<f32>' : 'f32'), SETUP: setup.join('\n'), STEP: step.join('\n'), STORE: store.join('\n') });
  });
}

const ROWS_R = 4; // rows of C per invocation
const ROWS_U = 2; // values of k per loop iteration

/** The 'rows' kernel for N columns; B shared through shuffles across `lanes` when lanes > 0. */
function rowsKernel(N: number, lanes: number): Kernel {
  return memoKernel(`matmulRows|${N}|${lanes}`, () => {
    const R = ROWS_R;
    const WG = lanes || 8;
    const setup: string[] = [];
    for (let i = 0; i < R; i++) setup.push(`  let ra${i} = ab + min(base + ${i * WG}u, p.M - 1u) * p.aRow;`);
    for (let i = 0; i < R; i++) for (let j = 0; j < N; j++) setup.push(`  var c${i}_${j} = 0.0;`);
    // One assignment per accumulator per loop iteration: in a loop each assignment costs
    // lavapipe a masked blend, so the U products are summed first.
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
    return kernel(matmulRowsSrc, {
      MATMUL_PARAMS: matmulParams(),
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
    });
  });
}

function checkGrid(what: string, l: MatmulLayout, ...dims: number[]): void {
  if (dims.some((d) => d > 65535)) {
    throw new Error(`hypertape: matmul of ${l.batch} x [${l.M}, ${l.K}] @ [${l.K}, ${l.N}] needs a ${what} grid of [${dims.join(', ')}] workgroups, over the limit of 65,535 per dimension`);
  }
}

export function matmulLaunch(a: Tensor, b: Tensor, l: MatmulLayout, outShape: Shape): Tensor {
  const out = empty(outShape);
  if (out.size === 0) return out;
  if (l.K === 0) {
    elementwise({ shape: outShape, expr: '0.0', inputs: [], out: { tensor: out } });
    return out;
  }
  const buffers = [out.buffer, a.buffer, b.buffer];
  // C contiguous: cBatch = M N, cRow = N, cCol = 1 (only the rows kernel writes C transposed).
  const params = new Uint32Array([l.M, l.N, l.K, l.batch, l.aBatch, l.aRow, l.aCol, l.bBatch, l.bRow, l.bCol, l.M * l.N, l.N, 1, 0, 0, 0]).buffer;
  const variant = matmulVariant(l);
  if (variant === 'rows') {
    // Few columns: C = op(A) op(B) directly. Few rows: C^T = op(B)^T op(A)^T, written transposed.
    const lanes = shuffleWidth();
    const direct = l.N <= SKINNY_MAX;
    const [M, N] = direct ? [l.M, l.N] : [l.N, l.M];
    const p = direct
      ? [M, N, l.K, l.batch, l.aBatch, l.aRow, l.aCol, l.bBatch, l.bRow, l.bCol, l.M * l.N, l.N, 1]
      : [M, N, l.K, l.batch, l.bBatch, l.bCol, l.bRow, l.aBatch, l.aCol, l.aRow, l.M * l.N, 1, l.N];
    const rows = (lanes || 8) * ROWS_R;
    checkGrid('rows', l, Math.ceil(M / rows), l.batch);
    engine().dispatch(rowsKernel(N, lanes), direct ? buffers : [out.buffer, b.buffer, a.buffer],
      new Uint32Array([...p, 0, 0, 0]).buffer, [Math.ceil(M / rows), l.batch]);
  } else if (variant === 'splitk') {
    const NN = l.N <= 4 ? 4 : l.N <= 8 ? 8 : 16;
    engine().dispatch(memoKernel(`matmulSplitk|${NN}`, () => kernel(matmulSkinnySrc, { NN, WG, MATMUL_PARAMS: matmulParams() })), buffers, params, grid(l.M * l.batch * WG, WG));
  } else if (variant === 'tiled') {
    const g = [Math.ceil(l.N / 32), Math.ceil(l.M / 32), l.batch];
    checkGrid('tiled', l, ...g);
    engine().dispatch(memoKernel('matmulTiled', () => kernel(matmulTiledSrc, { MATMUL_PARAMS: matmulParams() })), buffers, params, g as [number, number, number]);
  } else {
    const bVec4 = l.bCol === 1 && l.bRow % 4 === 0 && l.bBatch % 4 === 0;
    const g = [Math.ceil(l.N / 64), Math.ceil(l.M / 64), l.batch];
    checkGrid('blocked', l, ...g);
    engine().dispatch(blockedKernel(bVec4), buffers, params, g as [number, number, number]);
  }
  return out;
}

// ---- random, gather, one-hot ------------------------------------------------------------------

export function randomLaunch(shape: Shape, seed: number, kind: 'uniform' | 'normal', a: number, b: number): Tensor {
  const out = empty(shape);
  const n = out.size;
  if (n === 0) return out;
  const params = new ArrayBuffer(32);
  const u = new Uint32Array(params);
  const f = new Float32Array(params);
  u[0] = n;
  u[1] = seed >>> 0;
  u[2] = Math.floor(seed / 2 ** 32) >>> 0;
  u[3] = kind === 'uniform' ? 0 : 1;
  f[4] = a;
  f[5] = b;
  engine().dispatch(memoKernel('random', () => kernel(randomSrc, { WG, TRIG: trigSrc })), [out.buffer], params, cappedGrid(n));
  return out;
}

export function gatherLaunch(x: Tensor, idx: Tensor, A: number, X: number, B: number, outShape: Shape): Tensor {
  const out = empty(outShape, x.dtype);
  const J = idx.size;
  if (out.size === 0) return out;
  engine().dispatch(memoKernel(`gather|${x.dtype}`, () => kernel(gatherSrc, { WG, T: x.dtype })), [out.buffer, x.buffer, idx.buffer], new Uint32Array([A, X, B, J]).buffer, cappedGrid(A * J * B));
  return out;
}

export function oneHotLaunch(idx: Tensor, depth: number): Tensor {
  const out = empty([...idx.shape, depth]);
  if (out.size === 0) return out;
  engine().dispatch(memoKernel('oneHot', () => kernel(oneHotSrc, { WG })), [out.buffer, idx.buffer], new Uint32Array([idx.size, depth, 0, 0]).buffer, cappedGrid(out.size));
  return out;
}
