// Kernel instantiation and launch: fills the WGSL templates in shaders/ and dispatches them.
// Ops (src/ops/*.ts) call these; nothing here knows about autodiff.
import elementwiseSrc from '../../shaders/elementwise.wgsl';
import reduceSrc from '../../shaders/reduce.wgsl';
import reduceRowsSrc from '../../shaders/reduce_rows.wgsl';
import matmulSrc from '../../shaders/matmul.wgsl';
import matmulSkinnySrc from '../../shaders/matmul_skinny.wgsl';
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
 * out = expr(a, b, c) over `shape`. `expr` is WGSL over the names a, b, c (the inputs in order)
 * and p.scalars; e.g. 'a * b', 'exp(a)', 'select(c, b, a != 0.0)'.
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
  const rank = c.shape.length;
  const ccontig = contiguousStrides(c.shape);
  const modes = operands.map((o, k) => {
    const s = c.strides[k]!;
    if (s.every((v) => v === 0)) return 'scalar';
    if (s.every((v, d) => v === ccontig[d])) return 'contig';
    return 'strided';
  });
  const names = ['out', 'in0', 'in1', 'in2'];
  const vec = ['x', 'y', 'z', 'w'];
  let index = '';
  if (modes.includes('strided')) {
    index += '  var rem = i;\n';
    modes.forEach((m, k) => {
      if (m === 'strided') index += `  var ix${k}: u32 = p.offsets.${vec[k]};\n`;
    });
    for (let d = rank - 1; d >= 0; d--) {
      const dim = `p.shape[${d >> 2}].${vec[d & 3]}`;
      index += d > 0 ? `  let c${d} = rem % ${dim};\n  rem = rem / ${dim};\n` : `  let c0 = rem;\n`;
      modes.forEach((m, k) => {
        if (m === 'strided') index += `  ix${k} = ix${k} + c${d} * p.strides[${2 * k + (d >> 2)}].${vec[d & 3]};\n`;
      });
    }
  }
  modes.forEach((m, k) => {
    if (m === 'contig') index += `  let ix${k} = i + p.offsets.${vec[k]};\n`;
    if (m === 'scalar') index += `  let ix${k} = p.offsets.${vec[k]};\n`;
  });
  const bindings = inputs
    .map((o, k) => `@group(0) @binding(${k + 2}) var<storage, read> in${k}: array<${o.tensor.dtype === 'i32' ? 'i32' : 'f32'}>;`)
    .join('\n');
  const letters = ['a', 'b', 'c'];
  let body = inputs.map((_, k) => `  let ${letters[k]} = ${names[k + 1]}[ix${k + 1}];\n`).join('');
  body += `  out[ix0] = ${opts.expr};`;
  const k = kernel(elementwiseSrc, { OUT_T: outT.dtype, BINDINGS: bindings, WG, INDEX: index, BODY: body, TRIG: trigSrc });

  const params = new ArrayBuffer(208);
  const u = new Uint32Array(params);
  const f = new Float32Array(params);
  u[0] = n;
  c.shape.forEach((d, i) => (u[4 + i] = d));
  operands.forEach((o, k) => (u[12 + k] = o.offset ?? 0));
  c.strides.forEach((s, k) => s.forEach((v, d) => (u[16 + 8 * k + d] = v)));
  (opts.scalars ?? []).forEach((v, i) => (f[48 + i] = v));
  const buffers = operands.map((o) => o.tensor.buffer);
  engine().dispatch(k, buffers, params, grid(n, WG));
  return outT;
}

function shapeText(s: Shape): string {
  return `[${s.join(', ')}]`;
}

// ---- reductions ---------------------------------------------------------------------------

export type ReduceKind = 'sum' | 'max' | 'argmax';

const REDUCE: Record<ReduceKind, { init: string; combine: string; result: string }> = {
  sum: { init: '0.0', combine: 'acc = acc + v;', result: 'acc' },
  max: { init: 'neg_inf()', combine: 'acc = max(acc, v);', result: 'acc' },
  argmax: { init: 'neg_inf()', combine: 'if (v > acc) { acc = v; arg = r; }', result: 'f32(arg)' },
};

/** Reduces x, viewed as [A, R, B] (contiguous), over R into a new [A, B] tensor. */
export function reduceARB(x: Tensor, A: number, R: number, B: number, kind: ReduceKind): Tensor {
  const spec = REDUCE[kind];
  if (B === 1 && R >= 256 && kind !== 'argmax') {
    // Long rows: tree reduction per (row, chunk), then the partials.
    const C = A >= 64 ? 1 : Math.min(Math.ceil(R / 1024), Math.ceil(64 / A));
    const chunk = Math.ceil(R / C);
    const partial = empty([A, C]);
    const k = kernel(reduceRowsSrc, {
      WG,
      INIT: spec.init,
      COMBINE: spec.combine,
      COMBINE2: kind === 'sum' ? 'mine = mine + v;' : 'mine = max(mine, v);',
    });
    engine().dispatch(k, [partial.buffer, x.buffer], new Uint32Array([A, R, C, chunk]).buffer, grid(A * C * WG, WG));
    if (C === 1) return partial;
    const out = reduceARB(partial, A, C, 1, kind);
    partial.dispose();
    return out;
  }
  const out = empty([A, B]);
  const k = kernel(reduceSrc, { WG, INIT: spec.init, COMBINE: spec.combine, RESULT: spec.result });
  engine().dispatch(k, [out.buffer, x.buffer], new Uint32Array([A, R, B, 0]).buffer, grid(A * B, WG));
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

const SKINNY_MAX_N = 16;

/** Which matmul kernel a shape gets: 'skinny' reads A once with coalesced loads (memory-bound shapes). */
export function matmulVariant(l: MatmulLayout): 'skinny' | 'blocked' {
  const forced = matmulOverride;
  if (forced) return forced;
  return l.N <= SKINNY_MAX_N && l.K >= 64 && l.aCol === 1 ? 'skinny' : 'blocked';
}

let matmulOverride: 'skinny' | 'blocked' | null = null;

/** Every matmul kernel variant, for tests and benchmarks that force each in turn. */
export function matmulVariants(): ('skinny' | 'blocked')[] {
  return ['skinny', 'blocked'];
}

/** Benchmarks and tests force a variant with this; null restores the automatic choice. */
export function forceMatmulVariant(v: 'skinny' | 'blocked' | null): void {
  matmulOverride = v;
}

export function matmulLaunch(a: Tensor, b: Tensor, l: MatmulLayout, outShape: Shape): Tensor {
  const out = empty(outShape);
  if (out.size === 0) return out;
  const params = new Uint32Array([l.M, l.N, l.K, l.batch, l.aBatch, l.aRow, l.aCol, l.bBatch, l.bRow, l.bCol, 0, 0]).buffer;
  if (l.K === 0) {
    elementwise({ shape: outShape, expr: '0.0', inputs: [], out: { tensor: out } });
    return out;
  }
  if (matmulVariant(l) === 'skinny' && l.N <= SKINNY_MAX_N) {
    const NN = l.N <= 4 ? 4 : l.N <= 8 ? 8 : 16;
    const k = kernel(matmulSkinnySrc, { NN, WG });
    engine().dispatch(k, [out.buffer, a.buffer, b.buffer], params, grid(l.M * l.batch * WG, WG));
  } else {
    const k = kernel(matmulSrc, {});
    const gx = Math.ceil(l.N / 32);
    const gy = Math.ceil(l.M / 32);
    if (l.batch > 65535 || gx > 65535 || gy > 65535) throw new Error(`hypertape: matmul of ${l.batch} x [${l.M}, ${l.K}] @ [${l.K}, ${l.N}] exceeds the dispatch limits`);
    engine().dispatch(k, [out.buffer, a.buffer, b.buffer], params, [gx, gy, l.batch]);
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
  engine().dispatch(kernel(randomSrc, { WG, TRIG: trigSrc }), [out.buffer], params, grid(n, WG));
  return out;
}

export function gatherLaunch(x: Tensor, idx: Tensor, A: number, X: number, B: number, outShape: Shape): Tensor {
  const out = empty(outShape, x.dtype);
  const J = idx.size;
  if (out.size === 0) return out;
  engine().dispatch(kernel(gatherSrc, { WG, T: x.dtype }), [out.buffer, x.buffer, idx.buffer], new Uint32Array([A, X, B, J]).buffer, grid(A * J * B, WG));
  return out;
}

export function oneHotLaunch(idx: Tensor, depth: number): Tensor {
  const out = empty([...idx.shape, depth]);
  if (out.size === 0) return out;
  engine().dispatch(kernel(oneHotSrc, { WG }), [out.buffer, idx.buffer], new Uint32Array([idx.size, depth, 0, 0]).buffer, grid(out.size, WG));
  return out;
}
