// A pending elementwise graph computed inside another kernel, instead of by a kernel of its own:
// a reduction's prologue (`fn load(i)`, the reduction's input computed as it is read) or a
// matmul's epilogue (`fn epilogue(i, acc)`, the graph over C computed as C is stored). Lays the
// graph out as an elementwise launch over the host's shape, generates its WGSL once per structure
// (src/ops/fusion/codegen.ts), adds its parameters to the host's block and shows it in the kernel
// log. Nothing here knows about autodiff.
import { graphFunctionWgsl } from '../fusion/codegen.js';
import { logKernel } from '../fusion/log.js';
import type { DType } from '../../tensor.js';
import { layOut, type ElementwiseLaunch } from './elementwise.js';
import { paramLayout, type ParamLayout, type ParamType } from './params.js';
import { contiguousStrides } from './template.js';

/**
 * An elementwise graph as the lazy ops layer plans it (its nodes, leaves, constants and scalars),
 * to be computed over a host kernel's shape.
 */
export type Graph = Omit<ElementwiseLaunch, 'out' | 'shape'>;

/** The most parameter bytes a kernel binds (the engine's uniform slot). */
const PARAM_BYTES = 256;

/** A graph made into part of a host kernel: its WGSL, the parameter block with it, its values and buffers. */
export interface GraphFunction {
  /** Identifies the generated WGSL (the graph's structure and the host), for kernel caches. */
  key: string;
  /** The function, its bindings, op functions and the shared helpers. */
  code: string;
  /** The host's fields followed by the graph's. */
  params: ParamLayout<Record<string, ParamType>>;
  /** The graph's parameter values (the host adds its own). */
  values: Record<string, number | readonly number[]>;
  /** The graph's leaves, bound in order from the host's first free binding. */
  buffers: GPUBuffer[];
}

const built = new Map<string, { code: string; generated: string; params: ParamLayout<Record<string, ParamType>> }>();
/** Functions shown in the kernel log, by structure and host. */
const logged = new Set<string>();

/**
 * `graph` over `shape` as a function of a host kernel (`role`: 'load' for a reduction's input,
 * 'epilogue' for a matmul's output of type `dtype`), its leaves bound from `firstBinding` on; the
 * host's own parameters are `fields`. `host` names the host kernel (its family: one WGSL per
 * structure and family) and `hostOp` the op the log shows it as (e.g. 'sum', 'matmul'); `note`
 * says in the log where the host's code is. Null when the combined block would pass the uniform
 * slot's 256 bytes (the caller then computes the graph by its own kernel).
 */
export function graphFunction(graph: Graph, shape: readonly number[], dtype: DType, opts: {
  role: 'load' | 'epilogue';
  firstBinding: number;
  fields: Record<string, ParamType>;
  host: string;
  hostOp: string;
  note: string;
}): GraphFunction | null {
  // Laid out as an elementwise launch over `shape` whose output (operand 0, never written) is
  // contiguous: the index i the function takes is then the flat index into that shape.
  const l = layOut({ ...graph, shape, out: { dtype, offset: 0, strides: contiguousStrides(shape) } }, false);
  const key = `${opts.host}|${JSON.stringify(l.shape)}`;
  let b = built.get(key);
  if (!b) {
    const g = graphFunctionWgsl(l.shape, opts.role, opts.firstBinding);
    b = { code: g.code, generated: g.generated, params: paramLayout({ ...opts.fields, ...g.fields }) };
    built.set(key, b);
  }
  if (b.params.bytes > PARAM_BYTES) return null;
  // The log shows each function once per host op (the WGSL is the same for every op of a family).
  if (!logged.has(`${key}|${opts.hostOp}`)) {
    logged.add(`${key}|${opts.hostOp}`);
    const ops = l.shape.nodes.map((n) => n.op.name);
    logKernel({
      ops: opts.role === 'load' ? [...ops, opts.hostOp] : [opts.hostOp, ...ops],
      wgsl: `${b.params.wgsl}\n${b.generated}\n// ... ${opts.note}`,
      code: b.code,
    });
  }
  return { key, code: b.code, params: b.params, values: l.values, buffers: l.leafBuffers };
}
