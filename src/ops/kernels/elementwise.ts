// The elementwise kernel: WGSL generated per expression, operand modes and dtypes from
// shaders/elementwise.wgsl, and its launch. Nothing here knows about autodiff.
import elementwiseSrc from '../../../shaders/elementwise.wgsl';
import trigSrc from '../../../shaders/trig.wgsl';
import specialSrc from '../../../shaders/special.wgsl';
import { engine } from '../../gpu/device.js';
import type { Kernel } from '../../gpu/engine.js';
import { empty, Tensor, sizeOf, type DType, type Shape } from '../../tensor.js';
import { cappedGrid, contiguousStrides, kernel, memoKernel, WG } from './template.js';

/** One operand of an elementwise launch: a tensor read (or written) at offset + sum(c_d * strides_d). */
export interface Operand {
  tensor: Tensor;
  offset?: number;
  /** Strides over the iteration shape; defaults to contiguous. 0 broadcasts. */
  strides?: readonly number[];
}

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
  return kernel(elementwiseSrc, { OUT_T: type(dtypes[0]!), BINDINGS: bindings, WG, UNIT: unit, TAIL: tail, TRIG: trigSrc, SPECIAL: specialSrc });
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
  for (const o of inputs) void o.tensor.storage; // as checkInputs, without an array per call
  if (inputs.length > 3) throw new Error(`hypertape internal: the elementwise kernel takes at most 3 inputs (a, b, c), got ${inputs.length} for '${opts.expr}'`);
  if ((opts.scalars?.length ?? 0) > 4) throw new Error(`hypertape internal: the elementwise kernel takes at most 4 scalars, got ${opts.scalars!.length} for '${opts.expr}'`);
  const n = sizeOf(shape);
  const outT = opts.out?.tensor ?? empty(shape, opts.outDtype ?? 'f32');
  outT.knownRange = undefined; // written on the GPU: no longer known on the CPU
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
