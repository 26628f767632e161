// WGSL for one elementwise kernel: a small expression graph (nodes, each an op applied to leaves,
// constants or earlier nodes) evaluated per element of an iteration shape and written to one
// output. Every distinct op becomes a readable WGSL function named after it, every node one `let`
// (so x * x reads x once), and the parameter block is declared once with paramLayout.
// Pure: nothing here touches the device (src/ops/fusion/launch.ts dispatches the result).
import elementwiseSrc from '../../../shaders/elementwise.wgsl';
import trigSrc from '../../../shaders/trig.wgsl';
import specialSrc from '../../../shaders/special.wgsl';
import type { DType } from '../../tensor.js';
import { paramLayout, type ParamLayout, type ParamType } from '../kernels/params.js';

/**
 * An op as the kernel sees it: its name (the WGSL function is named after it) and its WGSL
 * expression over the arguments a, b, c, ... (in order), i (the element's flat index in the
 * iteration shape, u32) and p.scalars (a vec4<f32> of the op's own parameters).
 */
export interface OpCode {
  /** The op's name, e.g. 'sigmoid'. */
  readonly name: string;
  /** The WGSL expression, e.g. 'sigmoidf(a)' or 'select(a, a * p.scalars.x, a < 0.0)'. */
  readonly expr: string;
}

/** How the kernel walks an operand after merging dims: contiguous, one value for all elements, or by strides. */
export type Mode = 'contig' | 'scalar' | 'strided';

/**
 * An argument of a node: leaf k (a bound buffer), constant k (a number in the parameters), node k
 * (computed earlier) or `acc`, the value of the kernel this graph is the epilogue of (a matmul's
 * element, in `fn epilogue(i, acc)`).
 */
export type Arg = { leaf: number } | { constant: number } | { node: number } | { acc: true };

/** One op applied to its arguments. */
export interface PlanNode {
  /** What the node computes. */
  op: OpCode;
  /** Its arguments, in the order the op's expression names them (a, b, c, ...). */
  args: Arg[];
  /** Its element type. */
  dtype: DType;
  /** Its slot in the parameters' scalar vec4s, or -1 if the op has no scalars. */
  scalarSlot: number;
}

/** The structure of a kernel, without the sizes, offsets and values that go in its parameters. */
export interface KernelShape {
  /** Rank of the (merged) iteration shape, 1 to 8. */
  rank: number;
  /** Whether a unit of work is a vec4 of elements (all operands contiguous and aligned, or one value). */
  vec4: boolean;
  /** Modes of the output (first) and the leaves. */
  modes: Mode[];
  /** Element types of the output (first) and the leaves. */
  dtypes: DType[];
  /** How many numbers the constants array holds. */
  constants: number;
  /** The nodes, in evaluation order; the last one is written to the output. */
  nodes: PlanNode[];
}

/** The most merged dims an elementwise kernel handles. */
export const MAX_RANK = 8;

/** `n` values of a scalar type as a parameter field: an array of ceil(n / 4) vec4s. */
function values(type: 'u32' | 'f32', n: number): ParamType {
  return `array<vec4<${type}>, ${Math.max(1, Math.ceil(n / 4))}>`;
}

/** The parameter fields of a kernel of this shape (arrays of vec4s, read a lane at a time by `lane`). */
export function kernelParamFields(k: KernelShape): Record<string, ParamType> {
  const fields: Record<string, ParamType> = {
    n: 'u32',
    units: 'u32',
    tail: 'u32',
    shape: values('u32', k.rank),
    offsets: values('u32', k.modes.length),
  };
  k.modes.forEach((m, j) => {
    if (m === 'strided') fields[`strides${j}`] = values('u32', k.rank);
  });
  if (k.constants > 0) fields.constants = values('f32', k.constants);
  const slots = k.nodes.filter((n) => n.scalarSlot >= 0).length;
  if (slots > 0) fields.scalars = values('f32', 4 * slots);
  return fields;
}

/** The parameter block of a kernel of this shape. */
export function kernelParams(k: KernelShape): ParamLayout<Record<string, ParamType>> {
  return paramLayout(kernelParamFields(k));
}

const LANES = ['x', 'y', 'z', 'w'];

/** WGSL that reads value k of the parameter array `name` (held as vec4s). */
function lane(name: string, k: number): string {
  return `p.${name}[${k >> 2}].${LANES[k & 3]}`;
}

/**
 * An upper bound on the bytes of the parameter block of a kernel with `operands` operands (the
 * output and the leaves), `strided` of them walked by strides, `constants` numbers and `scalarNodes`
 * nodes with scalars (the real block is never larger: it uses the merged rank, at most MAX_RANK).
 */
export function paramBytesBound(operands: number, strided: number, constants: number, scalarNodes: number): number {
  const vecs = (n: number) => 16 * Math.ceil(n / 4);
  return 16 + vecs(MAX_RANK) + vecs(operands) + strided * vecs(MAX_RANK) + vecs(constants) + 16 * scalarNodes;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** A WGSL function per distinct (op, argument types): its name and definition. */
interface OpFn {
  name: string;
  usesIndex: boolean;
  usesScalars: boolean;
  code: string;
}

function opFunctions(nodes: PlanNode[], argTypes: (n: PlanNode) => DType[]): { fnOf: OpFn[]; defs: string[] } {
  const byKey = new Map<string, OpFn>();
  const names = new Set<string>();
  const fnOf = nodes.map((node) => {
    const types = argTypes(node);
    const key = `${node.op.name}|${node.op.expr}|${types.join(',')}|${node.dtype}`;
    let fn = byKey.get(key);
    if (!fn) {
      if (node.args.length > LETTERS.length) throw new Error(`hypertape internal: op '${node.op.name}' takes ${node.args.length} arguments, more than ${LETTERS.length}`);
      const base = `${node.op.name.replace(/[^A-Za-z0-9]/g, '_')}_`;
      let name = base;
      for (let k = 2; names.has(name); k++) name = `${base}${k}`;
      names.add(name);
      const usesIndex = /\bi\b/.test(node.op.expr);
      const usesScalars = /\bp\.scalars\b/.test(node.op.expr);
      const params = types.map((t, j) => `${LETTERS[j]}: ${t}`);
      if (usesIndex) params.push('i: u32');
      if (usesScalars) params.push('sc: vec4<f32>');
      const body = node.op.expr.replace(/\bp\.scalars\b/g, 'sc');
      fn = { name, usesIndex, usesScalars, code: `fn ${name}(${params.join(', ')}) -> ${node.dtype} {\n  return ${body};\n}` };
      byKey.set(key, fn);
    }
    return fn;
  });
  return { fnOf, defs: [...byKey.values()].map((f) => f.code) };
}

/** The nodes' WGSL functions (one per distinct op and argument types) and their definitions. */
function nodeFunctions(k: KernelShape): { fnOf: OpFn[]; defs: string[] } {
  const nodeType = (a: Arg): DType => ('leaf' in a ? k.dtypes[a.leaf + 1]! : 'node' in a ? k.nodes[a.node]!.dtype : 'f32');
  return opFunctions(k.nodes, (n) => n.args.map(nodeType));
}

/** One `let n<j> = op(args)` per node, leaf k read as `leafValue(k)`; the last one is the root. */
function evaluateNodes(k: KernelShape, fnOf: OpFn[], indent: string, leafValue: (j: number) => string): string[] {
  const argText = (a: Arg): string => ('leaf' in a ? leafValue(a.leaf) : 'constant' in a ? lane('constants', a.constant) : 'node' in a ? `n${a.node}` : 'acc');
  return k.nodes.map((n, j) => {
    const fn = fnOf[j]!;
    const args = n.args.map(argText);
    if (fn.usesIndex) args.push('i');
    if (fn.usesScalars) args.push(`p.scalars[${n.scalarSlot}]`);
    return `${indent}let n${j} = ${fn.name}(${args.join(', ')});`;
  });
}

/**
 * The WGSL that computes the root node for element i (a u32 in scope), without vec4 units: each
 * operand's index ix<j> from its offset and strides (ix0 is the output's), each leaf's value, then
 * the nodes; the root is `n<last>`. Shared by the elementwise kernel and a reduction's prologue.
 */
function scalarUnit(k: KernelShape, fnOf: OpFn[], indent: string): string[] {
  const lines: string[] = [];
  const off = (j: number) => lane('offsets', j);
  if (k.modes.includes('strided')) {
    lines.push('var rem = i;');
    k.modes.forEach((m, j) => {
      if (m === 'strided') lines.push(`var ix${j}: u32 = ${off(j)};`);
    });
    for (let d = k.rank - 1; d >= 0; d--) {
      const dim = lane('shape', d);
      if (d > 0) lines.push(`let c${d} = rem % ${dim};`, `rem = rem / ${dim};`);
      else lines.push('let c0 = rem;');
      k.modes.forEach((m, j) => {
        if (m === 'strided') lines.push(`ix${j} = ix${j} + c${d} * ${lane(`strides${j}`, d)};`);
      });
    }
  }
  k.modes.forEach((m, j) => {
    if (m === 'contig') lines.push(`let ix${j} = i + ${off(j)};`);
    if (m === 'scalar') lines.push(`let ix${j} = ${off(j)};`);
  });
  for (let j = 0; j < k.modes.length - 1; j++) lines.push(`let l${j} = in${j}[ix${j + 1}];`);
  return [...lines.map((l) => indent + l), ...evaluateNodes(k, fnOf, indent, (j) => `l${j}`)];
}

/**
 * The storage bindings of the leaves: in<j> at binding j + `first` (2 in an elementwise kernel,
 * whose binding 1 is the output; after the host kernel's own bindings for a prologue or epilogue).
 */
function leafBindings(k: KernelShape, first = 2): string {
  const type = (d: DType) => (k.vec4 ? `vec4<${d}>` : d);
  return k.dtypes.slice(1)
    .map((d, j) => `@group(0) @binding(${j + first}) var<storage, read> in${j}: array<${type(d)}>;`)
    .join('\n');
}

/** The shared helper functions of shaders/elementwise.wgsl (expf, logf, sigmoidf, sinf, erff, ...). */
function helpers(): string {
  const m = /\/\/ <helpers>\n([\s\S]*)\/\/ <\/helpers>\n/.exec(elementwiseSrc);
  if (!m) throw new Error('hypertape internal: shaders/elementwise.wgsl lost its <helpers> markers');
  return m[1]!.replace('{{TRIG}}', trigSrc).replace('{{SPECIAL}}', specialSrc);
}

/**
 * An elementwise graph as a function of another kernel, with the graph's leaves bound from
 * binding `firstBinding` on (after the host kernel's own):
 *  - 'load', a reduction's prologue: `fn load(i: u32) -> f32` computes the graph's root at flat
 *    index i of its shape (the reduction reads its input through it);
 *  - 'epilogue', a matmul's: `fn epilogue(i: u32, acc: f32) -> T` computes the root at flat index
 *    i of C from acc, C's element there (the graph's `{ acc }` argument), as the kernel stores it.
 * `k` has no vec4 units; its output slot, operand 0, is unused. Returns the function with the
 * bindings and op functions it needs (`generated`, for the kernel log), the same with the shared
 * helpers (`code`), and the parameter fields the caller adds to its own block.
 */
export function graphFunctionWgsl(k: KernelShape, role: 'load' | 'epilogue', firstBinding: number): { code: string; generated: string; fields: Record<string, ParamType> } {
  if (k.vec4) throw new Error(`hypertape internal: a ${role} function is generated without vec4 units`);
  const { fnOf, defs } = nodeFunctions(k);
  const root = k.nodes[k.nodes.length - 1]!;
  const head = role === 'load' ? 'fn load(i: u32) -> f32 {' : `fn epilogue(i: u32, acc: f32) -> ${root.dtype} {`;
  const fn = [head, ...scalarUnit(k, fnOf, '  '), `  return n${k.nodes.length - 1};`, '}'].join('\n');
  const generated = [leafBindings(k, firstBinding), '', ...defs.flatMap((d) => [d, '']), fn].join('\n');
  return { code: `${helpers()}\n${generated}`, generated, fields: kernelParamFields(k) };
}

/**
 * The WGSL of a kernel with workgroups of `wg` invocations: `code` (complete), `generated` (the
 * same without the shared helper functions, for the kernel log) and its parameter block.
 */
export function elementwiseWgsl(k: KernelShape, wg: number): { code: string; generated: string; params: ParamLayout<Record<string, ParamType>> } {
  const P = kernelParams(k);
  const leaves = k.modes.length - 1;
  const type = (d: DType) => (k.vec4 ? `vec4<${d}>` : d);
  const { fnOf, defs } = nodeFunctions(k);
  const bindings = leafBindings(k);
  const off = (j: number) => lane('offsets', j);
  const root = `n${k.nodes.length - 1}`;
  const lines: string[] = [];
  if (k.vec4) {
    // Every operand is contiguous (offset in vec4s) or one value (offset in elements).
    for (let j = 0; j < leaves; j++) {
      const at = k.modes[j + 1] === 'scalar' ? `in${j}[${off(j + 1)} / 4u][${off(j + 1)} % 4u]` : `in${j}[u + ${off(j + 1)}]`;
      lines.push(`    let v${j} = ${at};`);
    }
    lines.push(`    var r: vec4<${k.dtypes[0]!}>;`);
    for (let c = 0; c < 4; c++) {
      lines.push('    {', `      let i = 4u * u + ${c}u;`);
      lines.push(...evaluateNodes(k, fnOf, '      ', (j) => (k.modes[j + 1] === 'scalar' ? `v${j}` : `v${j}[${c}]`)));
      lines.push(`      r[${c}] = ${root};`, '    }');
    }
    lines.push(`    out[u + ${off(0)}] = r;`);
  } else {
    lines.push('    let i = u;', ...scalarUnit(k, fnOf, '    '));
    lines.push(`    out[ix0] = ${root};`);
  }
  const unit = lines.join('\n');
  // The elements after the last whole vec4: invocation 0 updates only those lanes of one more vec4
  // (buffers are allocated in 64-byte steps, so the vec4 lies inside them).
  const store = `    out[u + ${off(0)}] = r;`;
  const tail = k.vec4 ? unit
    .replace(store, `    let keep = out[u + ${off(0)}];\n    out[u + ${off(0)}] = select(keep, r, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.tail));`)
    .replace(/^/gm, '  ')
    .replace(/^/, '  if (first == 0u && p.tail > 0u) {\n    let u = p.units;\n') + '\n  }' : '';
  const vars = { PARAMS: P.wgsl, OUT_T: type(k.dtypes[0]!), BINDINGS: bindings, FNS: defs.join('\n\n'), WG: wg, UNIT: unit, TAIL: tail };
  const fill = (template: string, extra: Record<string, string>) =>
    template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      const v = (vars as Record<string, string | number>)[name] ?? extra[name];
      if (v === undefined) throw new Error(`hypertape internal: the elementwise template needs {{${name}}}`);
      return String(v);
    });
  const code = fill(elementwiseSrc, { TRIG: trigSrc, SPECIAL: specialSrc });
  // The generated part: the template with the shared helpers left out.
  const generated = fill(elementwiseSrc
    .replace(/^(\/\/.*\n)+/, '')
    .replace(/\/\/ <helpers>[\s\S]*\/\/ <\/helpers>\n/, '// ... the shared helpers of shaders/elementwise.wgsl (expf, logf, sigmoidf, sinf, erff, ...)\n'), { TRIG: '', SPECIAL: '' });
  return { code, generated, params: P };
}
