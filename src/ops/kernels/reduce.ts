// The reduction kernels (shaders/reduce.wgsl, shaders/reduce_rows.wgsl) and their launch. The
// input is a buffer, or a prologue: the pending elementwise graph that computes it, evaluated as
// the reduction reads it (the lazy ops layer's fused reductions; no pass writes the input out).
// Nothing here knows about autodiff.
import reduceSrc from '../../../shaders/reduce.wgsl';
import reduceRowsSrc from '../../../shaders/reduce_rows.wgsl';
import { engine } from '../../gpu/device.js';
import type { Kernel } from '../../gpu/engine.js';
import { empty, sizeOf, type Tensor } from '../../tensor.js';
import { graphFunction, type Graph, type GraphFunction } from './graph-function.js';
import { paramLayout, type ParamLayout, type ParamType } from './params.js';
import { cappedGrid, checkInputs, grid, kernel, memoKernel, WG } from './template.js';

/** shaders/reduce.wgsl: x is [A, R, B] with B counted in units (outputs, or vec4s of outputs). */
const REDUCE_FIELDS = { A: 'u32', R: 'u32', B: 'u32' } as const;
const REDUCE_PARAMS = paramLayout(REDUCE_FIELDS);
/** shaders/reduce_rows.wgsl: rows [A, R] in C chunks of `chunk` values each. */
const ROWS_FIELDS = { A: 'u32', R: 'u32', C: 'u32', chunk: 'u32' } as const;
const ROWS_PARAMS = paramLayout(ROWS_FIELDS);

/** The input of a reduction read from the buffer at binding 2. */
const bufferInput = (T: string): string =>
  `@group(0) @binding(2) var<storage, read> x: array<${T}>;\n\nfn load(i: u32) -> ${T} {\n  return x[i];\n}`;

/**
 * A reduction's input computed by an elementwise graph (as the lazy ops layer plans it) over the
 * input's shape, instead of read from a buffer.
 */
export type Prologue = Graph;

type FusedInput = GraphFunction;

/**
 * The reductions. 'maxShift' is max with an infinite result replaced by 0: the shift of
 * logsumexp and logSoftmax, where -inf - (-inf) would otherwise give NaN (one kernel, no extra pass).
 */
export type ReduceKind = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin' | 'maxShift' | 'logSoftmaxParts';

/** WGSL: v (of type T) with +-inf replaced by 0. */
const finiteOrZero = (v: string, T: string): string => `select(${v}, ${T}(0.0), abs(${v}) > ${T}(3.4028234e38))`;

/** WGSL: whether x (of type T, with U its unsigned twin) is NaN, by its bits. */
const isNan = (x: string, U: string): string => `((bitcast<${U}>(${x}) & ${U}(0x7fffffffu)) > ${U}(0x7f800000u))`;

/**
 * Each reduction as WGSL for T = f32 or vec4<f32> (U = u32 or vec4<u32>): its start value and how
 * it merges a value v into acc. max and min propagate NaN (acc + v is NaN when either is); argmax
 * and argmin take the first NaN as the extreme, as NumPy and PyTorch do.
 */
const REDUCE: Record<ReduceKind, { init: string; merge: (acc: string, v: string, T: string, U: string) => string }> = {
  sum: { init: '0.0', merge: (acc, v) => `${acc} + ${v}` },
  prod: { init: '1.0', merge: (acc, v) => `${acc} * ${v}` },
  max: { init: 'neg_inf()', merge: (acc, v, _T, U) => `select(max(${acc}, ${v}), ${acc} + ${v}, ${isNan(acc, U)} | ${isNan(v, U)})` },
  maxShift: { init: 'neg_inf()', merge: (acc, v, T, U) => REDUCE.max.merge(acc, v, T, U) },
  min: { init: 'pos_inf()', merge: (acc, v, _T, U) => `select(min(${acc}, ${v}), ${acc} + ${v}, ${isNan(acc, U)} | ${isNan(v, U)})` },
  argmax: { init: 'neg_inf()', merge: () => '' },
  argmin: { init: 'pos_inf()', merge: () => '' },
  logSoftmaxParts: { init: 'neg_inf()', merge: () => '' },
};

/**
 * The parts of log-softmax in one pass (the "online" form of logsumexp): acc is the running max
 * m and s the sum of exp(v - m), rescaled by exp(m_old - m_new) when the max grows, so no exp
 * overflows and no first pass finds the max. The kernel writes two results per output: the
 * shift m (0 when m is infinite, as 'maxShift') at o, and log(s) at A * B + o (+inf when m is
 * +inf), so that log-softmax is (x - m) - log(s), exact where x is near m, as the two-pass form
 * computes it; a slice of -inf gives m = 0, log(s) = -inf (log-softmax NaN), a NaN gives NaN.
 * Exponents below -100 count as 0 (exp underflows there anyway).
 */
function logSoftmaxCombine(T: string, U: string): string {
  return [
    'let up = v > acc;',
    `let d = select(v - acc, acc - v, up);`,
    `let same_inf = (abs(v) > ${T}(3.4028234e38)) & (v == acc);`,
    `let e = select(select(exp(d), ${T}(0.0), d < ${T}(-100.0)), ${T}(0.0), same_inf);`,
    `s = select(s + e, s * e + ${T}(1.0), up);`,
    `acc = select(select(acc, v, up), acc + v, ${isNan('acc', U)} | ${isNan('v', U)});`,
  ].join('\n      ');
}

function reduceKernel(kind: ReduceKind, vec4: boolean, input?: FusedInput): Kernel {
  return memoKernel(`reduce|${kind}|${vec4}|${input?.key ?? ''}`, () => {
    const [T, U] = vec4 ? ['vec4<f32>', 'vec4<u32>'] : ['f32', 'u32'];
    const spec = REDUCE[kind];
    const arg = kind === 'argmax' || kind === 'argmin';
    const parts = kind === 'logSoftmaxParts';
    const combine = arg
      ? `let better = ((v ${kind === 'argmax' ? '>' : '<'} acc) | ${isNan('v', U)}) & !${isNan('acc', U)}; arg = select(arg, ${U}(r), better); acc = select(acc, v, better);`
      : parts ? logSoftmaxCombine(T, U) : `acc = ${spec.merge('acc', 'v', T, U)};`;
    const result = arg ? `${T}(arg)` : kind === 'maxShift' || parts ? finiteOrZero('acc', T) : 'acc';
    // log(s), +inf where the max is +inf (so x - m - log(s) is -inf or NaN there, as in two passes).
    const store2 = parts ? `    out[o + p.A * p.B] = select(log(s), ${T}(pos_inf()), acc > ${T}(3.4028234e38));` : '';
    return kernel(reduceSrc, {
      PARAMS: (input?.params ?? REDUCE_PARAMS).wgsl, INPUT: input?.code ?? bufferInput(T), WG, T, U, INIT: `${T}(${spec.init})`,
      STATE: parts ? `    var s = ${T}(0.0);` : '', COMBINE: combine, RESULT: result, STORE2: store2,
    });
  });
}

type RowKind = 'sum' | 'prod' | 'max' | 'min' | 'maxShift';

/** The row kernel; 'maxShift' applies its replacement only when it writes final results (`last`). */
function reduceRowsKernel(kind: RowKind, vec4: boolean, last: boolean, input?: FusedInput): Kernel {
  return memoKernel(`reduceRows|${kind}|${vec4}|${last}|${input?.key ?? ''}`, () => {
    const combine = `acc = ${REDUCE[kind].merge('acc', 'v', 'f32', 'u32')};`;
    const loop = vec4
      ? `    for (var q = (row + start) / 4u + lid.x; q < (row + stop) / 4u; q = q + ${WG}u) {
      let v4 = load(q);
      ${[0, 1, 2, 3].map((c) => `{ let v = v4[${c}]; ${combine} }`).join('\n      ')}
    }`
      : `    for (var r = start + lid.x; r < stop; r = r + ${WG}u) {
      let v = load(row + r);
      ${combine}
    }`;
    return kernel(reduceRowsSrc, {
      PARAMS: (input?.params ?? ROWS_PARAMS).wgsl,
      WG,
      INPUT: input?.code ?? bufferInput(vec4 ? 'vec4<f32>' : 'f32'),
      INIT: REDUCE[kind].init,
      LOOP: loop,
      COMBINE2: `mine = ${REDUCE[kind].merge('mine', 'v', 'f32', 'u32')};`,
      RESULT: kind === 'maxShift' && last ? finiteOrZero('partial[0]', 'f32') : 'partial[0]',
    });
  });
}

/** A prologue made into a reduction's input (`fn load(i)`), or null when the parameters would not fit. */
function fusedInput(prologue: Prologue, shape: readonly number[], fields: Record<string, ParamType>, family: 'reduce' | 'reduceRows', kind: ReduceKind): FusedInput | null {
  const file = family === 'reduce' ? 'reduce.wgsl' : 'reduce_rows.wgsl';
  return graphFunction(prologue, shape, 'f32', {
    role: 'load', firstBinding: 2, fields, host: family, hostOp: kind,
    note: `then the ${kind} reduction (shaders/${file}) reads its input with load(i)`,
  });
}

/**
 * Reduces x, viewed as [A, R, B] (contiguous), over R into a new [A, B] tensor ([2, A, B] for
 * logSoftmaxParts). With a prologue, x is not read (it may be pending): its values are computed
 * by the prologue as they are read, unless the kernel's parameters would not fit, when x is
 * computed first.
 */
export function reduceARB(x: Tensor, A: number, R: number, B: number, kind: ReduceKind, prologue?: Prologue): Tensor {
  const tree = treeServes(A, R, B, kind);
  const fused = prologue && sizeOf(x.shape) > 0
    ? fusedInput(prologue, x.shape, tree ? ROWS_FIELDS : REDUCE_FIELDS, tree ? 'reduceRows' : 'reduce', kind)
    : null;
  if (!fused) checkInputs(x);
  // What the kernel reads: the prologue's leaves, or x's buffer (then read as vec4 where it can).
  const buffers = fused ? fused.buffers : [x.buffer];
  const values = fused?.values ?? {};
  if (tree) {
    // Long rows: tree reduction per (row, chunk), then the partials. Chunks start on 16 bytes
    // when rows do, so that they can be read as vec4.
    const C = chunksOf(A, R);
    const vec4 = !fused && R % 4 === 0;
    const chunk = vec4 ? Math.ceil(R / C / 4) * 4 : Math.ceil(R / C);
    const params = (fused?.params ?? ROWS_PARAMS) as ParamLayout<Record<string, ParamType>>;
    const partial = empty([A, C]);
    engine().dispatch(reduceRowsKernel(kind as RowKind, vec4, C === 1, fused ?? undefined), [partial.buffer, ...buffers],
      params.pack({ ...values, A, R, C, chunk }), grid(A * C * WG, WG));
    if (C === 1) return partial;
    const out = reduceARB(partial, A, C, 1, kind);
    partial.dispose();
    return out;
  }
  const vec4 = !fused && B % 4 === 0;
  const params = (fused?.params ?? REDUCE_PARAMS) as ParamLayout<Record<string, ParamType>>;
  const out = empty(outputsOf(kind) === 1 ? [A, B] : [2, A, B]);
  const units = (A * B) / (vec4 ? 4 : 1);
  engine().dispatch(reduceKernel(kind, vec4, fused ?? undefined), [out.buffer, ...buffers], params.pack({ ...values, A, R, B: vec4 ? B / 4 : B }), cappedGrid(units));
  return out;
}

/** Results per output: 2 for logSoftmaxParts (the shift, then log of the sum), else 1. */
function outputsOf(kind: ReduceKind): number {
  return kind === 'logSoftmaxParts' ? 2 : 1;
}

/** Whether the tree kernel (reduce_rows.wgsl) serves this reduction. */
function treeServes(A: number, R: number, B: number, kind: ReduceKind): boolean {
  // On CPU adapters the tree kernel pays a workgroup and its barriers per row: with 64 rows or
  // more, one invocation per row summing in order is faster (measured on lavapipe, sum over
  // axis 1: [65536, 256] 10x, [5000, 785] 3-4x, [1024, 1000] 3x, [4096, 4096] 1.8x, [64, 16384]
  // even); fewer rows keep the tree kernel, whose chunks spread one row over many workgroups.
  // argmax, argmin and logSoftmaxParts (two accumulators, two results) have no tree kernel.
  const tree = !engine().adapter.software || A < 64;
  return B === 1 && R >= 256 && kind !== 'argmax' && kind !== 'argmin' && kind !== 'logSoftmaxParts' && tree;
}

/** The chunks per row of the tree kernel. */
function chunksOf(A: number, R: number): number {
  return A >= 64 ? 1 : Math.min(Math.ceil(R / 1024), Math.ceil(64 / A));
}

