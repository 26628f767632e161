// The machinery every elementwise op is made with: `unary` and `binary` turn a WGSL expression and
// one derivative rule into a Primitive and its function. A rule is written once, as the op's
// partial derivative(s) in the library's own ops, and serves both modes:
//   VJP  g -> g * d(x)                          (binary: unbroadcast(g * da), unbroadcast(g * db))
//   JVP  dx -> dx * d(x)                        (binary: da * dot_a + db * dot_b)
// so that VJP and JVP cannot drift apart, and since d is made of differentiable ops, every order
// of derivative follows. Ops whose rule is not of that form (neg, add, sub, mul, div) pass vjp and
// jvp directly. Binary ops broadcast like NumPy; a number operand is read from the kernel's
// parameters (and recorded for autodiff as a cached constant tensor).
// Every op here is lazy: it returns a pending tensor that the fusion layer (src/ops/fusion/graph.ts)
// computes, together with the pending ops it reads, in one kernel when the value is needed.
import { Tensor, type Shape } from '../tensor.js';
import { checkF32, record, type Primitive } from './core.js';
import { lazyElementwise } from './fusion/graph.js';
import type { OpCode } from './fusion/codegen.js';
import { broadcastShapes, liftTangent, unbroadcast } from './shape.js';
import { scalarConst } from './create.js';
// Only used inside rules, at call time (a cycle of ES modules is safe for that).
import { add, mul } from './binary.js';

/** A tensor or a plain number (broadcast as a constant). */
export type Operand = Tensor | number;

/** A number as a cached rank-0 constant; a tensor as itself. */
export function asTensor(x: Operand): Tensor {
  return typeof x === 'number' ? scalarConst(x) : x;
}

/** What a derivative rule reads: the input x, the output y, both, or neither. */
export type Uses = 'x' | 'y' | 'xy' | 'none';

// A function rather than a table: ops are made while this module's cycle with binary.ts is still
// being evaluated, when its top-level constants do not exist yet (its functions do).
function savesFor(uses: Uses): { inputs: number[]; output: boolean } {
  return { inputs: uses === 'x' || uses === 'xy' ? [0] : [], output: uses === 'y' || uses === 'xy' };
}

/** Scalar parameters of an op (leakyRelu's slope, clamp's bounds), passed to the kernel as p.scalars. */
export type Scalars = readonly number[];

/** The rules of a unary op: its derivative d (shared by VJP and JVP), or explicit VJP and JVP. */
export interface UnarySpec {
  /** What `d` reads (default 'x'). */
  uses?: Uses;
  /** dy/dx elementwise, written with the library's ops; the op's VJP and JVP both use it. */
  d?: (x: Tensor, y: Tensor, s: Scalars) => Tensor;
  /** Explicit rules instead of `d` (ops whose derivative is not a product, such as neg). */
  vjp?: Primitive<Scalars>['vjp'];
  /** See vjp. */
  jvp?: Primitive<Scalars>['jvp'];
  /** With explicit rules: what they read (default: everything). */
  saves?: { inputs?: number[]; output?: boolean };
  /** A constant of autodiff (sign, comparisons, masks). */
  nondiff?: boolean;
}

/** A unary op's function (S: the numbers it takes after x, its scalars), with its Primitive attached. */
export type UnaryFn<S extends number[] = []> = ((x: Tensor, ...s: S) => Tensor) & {
  /** The op as data: its name, VJP and JVP rules (what the tracer records). */
  prim: Primitive<Scalars>;
};

/** A unary elementwise op: `expr` is WGSL over `a` (the input) and `p.scalars` (its parameters). */
export function unary(name: string, expr: string, spec: UnarySpec): UnaryFn {
  return unaryWith<[]>(name, expr, spec);
}

/** A unary op with scalar parameters S (numbers after x, read by `expr` as p.scalars.x, .y, ...). */
export function unaryWith<S extends number[]>(name: string, expr: string, spec: UnarySpec): UnaryFn<S> {
  const uses = spec.uses ?? 'x';
  const d = spec.d;
  const prim: Primitive<Scalars> = {
    name,
    nondiff: spec.nondiff,
    saves: spec.vjp ? undefined : savesFor(uses),
    vjp: spec.vjp ?? (d && ((g, { inputs: [x], out, params }) => [mul(g, d(x!, out!, params))])),
    jvp: spec.jvp ?? (d && (([dx], { inputs: [x], out, params }) => mul(dx!, d(x!, out, params)))),
  };
  if (spec.vjp && spec.saves) prim.saves = spec.saves;
  const code: OpCode = { name, expr };
  const fn = (x: Tensor, ...s: S): Tensor => {
    checkF32(name, x);
    return record(prim, [x], lazyElementwise(code, [x], x.shape, 'f32', s), s);
  };
  return Object.assign(fn, { prim });
}

/** The rules of a binary op: partial derivatives (shared by VJP and JVP), or explicit VJP and JVP. */
export interface BinarySpec {
  /** What the partials read: the inputs a and b, and the output y. */
  saves?: { inputs?: number[]; output?: boolean };
  /** d out / d a and d out / d b elementwise (output-shaped or broadcastable to it), in library ops. */
  da?: (a: Tensor, b: Tensor, y: Tensor) => Tensor;
  /** See da. */
  db?: (a: Tensor, b: Tensor, y: Tensor) => Tensor;
  /** Explicit rules instead of da and db (the linear ops). */
  vjp?: Primitive<null>['vjp'];
  /** See vjp. */
  jvp?: Primitive<null>['jvp'];
  /** A constant of autodiff (comparisons). */
  nondiff?: boolean;
}

/** A binary op's function, with its Primitive attached. */
export type BinaryFn = ((a: Operand, b: Operand) => Tensor) & {
  /** The op as data: its name, VJP and JVP rules (what the tracer records). */
  prim: Primitive<null>;
};

/** `code` over the broadcast of `ins` (tensors or numbers) to `outShape`, as a pending f32 tensor. */
export function mapBroadcast(code: OpCode, ins: readonly Operand[], outShape: Shape): Tensor {
  return lazyElementwise(code, ins, outShape, 'f32');
}

/** A binary elementwise op with NumPy broadcasting: `expr` is WGSL over `a` and `b`. */
export function binary(name: string, expr: string, spec: BinarySpec): BinaryFn {
  const { da, db } = spec;
  const prim: Primitive<null> = { name, nondiff: spec.nondiff, saves: spec.saves };
  if (spec.vjp || spec.jvp) {
    prim.vjp = spec.vjp;
    prim.jvp = spec.jvp;
  } else if (da && db) {
    prim.vjp = (g, { inputs: [a, b], out, shapes, wants }) => [
      wants[0] ? unbroadcast(mul(g, da(a!, b!, out!)), shapes[0]!) : null,
      wants[1] ? unbroadcast(mul(g, db(a!, b!, out!)), shapes[1]!) : null,
    ];
    prim.jvp = (dots, { inputs: [a, b], out, nb }) => {
      const [ta, tb] = lift2(dots, out.rank, nb);
      return addOpt(ta ? mul(ta, da(a!, b!, out)) : null, tb ? mul(tb, db(a!, b!, out)) : null);
    };
  }
  const code: OpCode = { name, expr };
  const fn = (a: Operand, b: Operand): Tensor => {
    const ta = asTensor(a);
    const tb = asTensor(b);
    checkF32(name, ta, tb);
    const shape = broadcastShapes(name, ta.shape, tb.shape);
    return record(prim, [ta, tb], mapBroadcast(code, [a, b], shape), null);
  };
  return Object.assign(fn, { prim });
}

/** Lines up tangents with the output (see liftTangent); a missing one stays null. */
export function lift2(dots: (Tensor | null)[], outRank: number, nb: number): (Tensor | null)[] {
  return dots.map((d) => (d ? liftTangent(d, nb, outRank) : null));
}

/** a + b where both are present, else whichever is. */
export function addOpt(a: Tensor | null, b: Tensor | null): Tensor | null {
  if (a && b) return add(a, b);
  return a ?? b;
}
