// Elementwise ops. Each entry: the WGSL expression its kernel evaluates, its VJP and its JVP,
// side by side. Binary ops broadcast like NumPy; a number operand becomes a cached constant.
import { Tensor, type Shape } from '../tensor.js';
import { checkF32, record, type Primitive } from './core.js';
import { elementwise } from './launch.js';
import { broadcastShapes, broadcastStrides, liftTangent, unbroadcast } from './shape.js';
import { scalarConst } from './create.js';

/** An operand of a binary op: a tensor, or a number (a constant, broadcast to the other operand). */
export type Operand = Tensor | number;

function asTensor(x: Operand): Tensor {
  return typeof x === 'number' ? scalarConst(x) : x;
}

// ---- unary ----------------------------------------------------------------------------------

type UnaryRules = Pick<Primitive<null>, 'vjp' | 'jvp' | 'saves' | 'nondiff'>;

/** An elementwise op of one tensor, with its {@link Primitive} (kernel, VJP and JVP side by side in src/ops/elementwise.ts). */
export interface UnaryOp {
  /** Applies the op to every element of `x` (an f32 tensor); the result has x's shape. */
  (x: Tensor): Tensor;
  /** What autodiff records for this op: its name and its VJP and JVP rules. */
  prim: Primitive<null>;
}

function unary(name: string, expr: string, rules: UnaryRules): UnaryOp {
  const prim: Primitive<null> = { name, ...rules };
  const fn = (x: Tensor): Tensor => {
    checkF32(name, x);
    const out = elementwise({ shape: x.shape, expr, inputs: [{ tensor: x }] });
    return record(prim, [x], out, null);
  };
  return Object.assign(fn, { prim });
}

const X = { inputs: [0], output: false };
const Y = { inputs: [], output: true };
const NONE = { inputs: [], output: false };

/** -x. */
export const neg = unary('neg', '-a', {
  saves: NONE,
  vjp: (g) => [neg(g)],
  jvp: ([dx]) => neg(dx!),
});

/** The sign of x: -1, 0 or 1 (a constant for autodiff). */
export const sign = unary('sign', 'sign(a)', { nondiff: true });

/** |x| (its derivative at 0 is taken as 0). */
export const abs = unary('abs', 'abs(a)', {
  saves: X,
  vjp: (g, { inputs: [x] }) => [mul(g, sign(x!))],
  jvp: ([dx], { inputs: [x] }) => mul(dx!, sign(x!)),
});

/** e^x. */
export const exp = unary('exp', 'exp(a)', {
  saves: Y,
  vjp: (g, { out }) => [mul(g, out!)],
  jvp: ([dx], { out }) => mul(dx!, out),
});

/** The natural logarithm of x. */
export const log = unary('log', 'log(a)', {
  saves: X,
  vjp: (g, { inputs: [x] }) => [div(g, x!)],
  jvp: ([dx], { inputs: [x] }) => div(dx!, x!),
});

/** The square root of x. */
export const sqrt = unary('sqrt', 'sqrt(a)', {
  saves: Y,
  vjp: (g, { out }) => [div(g, mul(out!, 2))],
  jvp: ([dx], { out }) => div(dx!, mul(out, 2)),
});

/** x². */
export const square = unary('square', 'a * a', {
  saves: X,
  vjp: (g, { inputs: [x] }) => [mul(g, mul(x!, 2))],
  jvp: ([dx], { inputs: [x] }) => mul(dx!, mul(x!, 2)),
});

// sinf and cosf (shaders/trig.wgsl) rather than the WGSL built-ins, whose accuracy varies by adapter.
/** sin x (accurate for large |x|, not the adapter's built-in). */
export const sin = unary('sin', 'sinf(a)', {
  saves: X,
  vjp: (g, { inputs: [x] }) => [mul(g, cos(x!))],
  jvp: ([dx], { inputs: [x] }) => mul(dx!, cos(x!)),
});

/** cos x (accurate for large |x|, not the adapter's built-in). */
export const cos = unary('cos', 'cosf(a)', {
  saves: X,
  vjp: (g, { inputs: [x] }) => [neg(mul(g, sin(x!)))],
  jvp: ([dx], { inputs: [x] }) => neg(mul(dx!, sin(x!))),
});

// tanh saturates to +-1 by |x| = 15 in f32; clamping keeps implementations that compute it
// through exp from overflowing to NaN.
/** tanh x. */
export const tanh = unary('tanh', 'tanh(clamp(a, -15.0, 15.0))', {
  saves: Y,
  vjp: (g, { out }) => [mul(g, sub(1, square(out!)))],
  jvp: ([dx], { out }) => mul(dx!, sub(1, square(out))),
});

/** σ(x) = 1 / (1 + e^-x), stable for large |x|. */
export const sigmoid = unary('sigmoid', 'sigmoidf(a)', {
  saves: Y,
  vjp: (g, { out }) => [mul(g, mul(out!, sub(1, out!)))],
  jvp: ([dx], { out }) => mul(dx!, mul(out, sub(1, out))),
});

/** max(x, 0) (its derivative at 0 is taken as 0). */
export const relu = unary('relu', 'max(a, 0.0)', {
  saves: X,
  vjp: (g, { inputs: [x] }) => [mul(g, greater(x!, 0))],
  jvp: ([dx], { inputs: [x] }) => mul(dx!, greater(x!, 0)),
});

/** log(1 + e^x), stable for large |x|. */
export const softplus = unary('softplus', 'softplusf(a)', {
  saves: X,
  vjp: (g, { inputs: [x] }) => [mul(g, sigmoid(x!))],
  jvp: ([dx], { inputs: [x] }) => mul(dx!, sigmoid(x!)),
});

/** log(sigmoid(x)) = -softplus(-x), stable for large |x|. */
export const logSigmoid = unary('logSigmoid', '-softplusf(-a)', {
  saves: X,
  vjp: (g, { inputs: [x] }) => [mul(g, sigmoid(neg(x!)))],
  jvp: ([dx], { inputs: [x] }) => mul(dx!, sigmoid(neg(x!))),
});

// ---- binary ---------------------------------------------------------------------------------

type BinaryRules = Pick<Primitive<null>, 'vjp' | 'jvp' | 'saves' | 'nondiff'>;

/** Launches `expr` over the broadcast of `ins` to `outShape`. */
function launchBroadcast(expr: string, ins: Tensor[], outShape: Shape): Tensor {
  return elementwise({ shape: outShape, expr, inputs: ins.map((t) => ({ tensor: t, strides: broadcastStrides(t.shape, outShape) })) });
}

/** An elementwise op of two operands, with its {@link Primitive} (kernel, VJP and JVP side by side in src/ops/elementwise.ts). */
export interface BinaryOp {
  /** Applies the op elementwise; `a` and `b` broadcast like NumPy, and a number acts as a constant tensor. */
  (a: Operand, b: Operand): Tensor;
  /** What autodiff records for this op: its name and its VJP and JVP rules. */
  prim: Primitive<null>;
}

function binary(name: string, expr: string, rules: BinaryRules): BinaryOp {
  const prim: Primitive<null> = { name, ...rules };
  const fn = (a: Operand, b: Operand): Tensor => {
    const ta = asTensor(a);
    const tb = asTensor(b);
    checkF32(name, ta, tb);
    const shape = broadcastShapes(name, ta.shape, tb.shape);
    return record(prim, [ta, tb], launchBroadcast(expr, [ta, tb], shape), null);
  };
  return Object.assign(fn, { prim });
}

/** Lines up both tangents with the output (see liftTangent); a missing one stays null. */
function lift2(dots: (Tensor | null)[], outRank: number, nb: number): (Tensor | null)[] {
  return dots.map((d) => (d ? liftTangent(d, nb, outRank) : null));
}

function addOpt(a: Tensor | null, b: Tensor | null): Tensor | null {
  if (a && b) return add(a, b);
  return a ?? b;
}

/** a + b. */
export const add = binary('add', 'a + b', {
  saves: NONE,
  vjp: (g, { shapes, wants }) => [wants[0] ? unbroadcast(g, shapes[0]!) : null, wants[1] ? unbroadcast(g, shapes[1]!) : null],
  jvp: (dots, { out, nb }) => {
    const [da, db] = lift2(dots, out.rank, nb);
    return addOpt(da!, db!);
  },
});

/** a - b. */
export const sub = binary('sub', 'a - b', {
  saves: NONE,
  vjp: (g, { shapes, wants }) => [wants[0] ? unbroadcast(g, shapes[0]!) : null, wants[1] ? unbroadcast(neg(g), shapes[1]!) : null],
  jvp: (dots, { out, nb }) => {
    const [da, db] = lift2(dots, out.rank, nb);
    return addOpt(da, db ? neg(db) : null);
  },
});

/** a * b (elementwise; {@link matmul} is the matrix product). */
export const mul = binary('mul', 'a * b', {
  saves: { inputs: [0, 1], output: false },
  vjp: (g, { inputs: [a, b], shapes, wants }) => [
    wants[0] ? unbroadcast(mul(g, b!), shapes[0]!) : null,
    wants[1] ? unbroadcast(mul(g, a!), shapes[1]!) : null,
  ],
  jvp: (dots, { inputs: [a, b], out, nb }) => {
    const [da, db] = lift2(dots, out.rank, nb);
    return addOpt(da ? mul(da, b!) : null, db ? mul(a!, db) : null);
  },
});

/** a / b. */
export const div = binary('div', 'a / b', {
  saves: { inputs: [1], output: true },
  vjp: (g, { inputs: [, b], out, shapes, wants }) => {
    const ga = div(g, b!);
    return [wants[0] ? unbroadcast(ga, shapes[0]!) : null, wants[1] ? unbroadcast(neg(mul(ga, out!)), shapes[1]!) : null];
  },
  jvp: (dots, { inputs: [, b], out, nb }) => {
    const [da, db] = lift2(dots, out.rank, nb);
    const num = addOpt(da, db ? neg(mul(out, db)) : null);
    return num ? div(num, b!) : null;
  },
});

/** a^b; d/db is taken as 0 where a <= 0. */
export const pow = binary('pow', 'powf(a, b)', {
  saves: { inputs: [0, 1], output: true },
  vjp: (g, { inputs: [a, b], out, shapes, wants }) => [
    wants[0] ? unbroadcast(mul(g, mul(b!, pow(a!, sub(b!, 1)))), shapes[0]!) : null,
    wants[1] ? unbroadcast(mul(g, mul(out!, safeLog(a!))), shapes[1]!) : null,
  ],
  jvp: (dots, { inputs: [a, b], out, nb }) => {
    const [da, db] = lift2(dots, out.rank, nb);
    return addOpt(da ? mul(da, mul(b!, pow(a!, sub(b!, 1)))) : null, db ? mul(db, mul(out, safeLog(a!))) : null);
  },
});

/** log(a) where a > 0, else 0: d(a^b)/db is taken as 0 where a^b has no real log. */
function safeLog(a: Tensor): Tensor {
  return where(greater(a, 0), log(maximum(a, 1e-30)), 0);
}

/** The larger of a and b; where they are equal the gradient goes to a. */
export const maximum = binary('maximum', 'max(a, b)', {
  saves: { inputs: [0, 1], output: false },
  vjp: (g, { inputs: [a, b], shapes, wants }) => {
    const m = greaterEqual(a!, b!);
    return [wants[0] ? unbroadcast(mul(g, m), shapes[0]!) : null, wants[1] ? unbroadcast(mul(g, sub(1, m)), shapes[1]!) : null];
  },
  jvp: (dots, { inputs: [a, b], out, nb }) => {
    const [da, db] = lift2(dots, out.rank, nb);
    const m = greaterEqual(a!, b!);
    return addOpt(da ? mul(da, m) : null, db ? mul(db, sub(1, m)) : null);
  },
});

/** The smaller of a and b; where they are equal the gradient goes to a. */
export const minimum = binary('minimum', 'min(a, b)', {
  saves: { inputs: [0, 1], output: false },
  vjp: (g, { inputs: [a, b], shapes, wants }) => {
    const m = lessEqual(a!, b!);
    return [wants[0] ? unbroadcast(mul(g, m), shapes[0]!) : null, wants[1] ? unbroadcast(mul(g, sub(1, m)), shapes[1]!) : null];
  },
  jvp: (dots, { inputs: [a, b], out, nb }) => {
    const [da, db] = lift2(dots, out.rank, nb);
    const m = lessEqual(a!, b!);
    return addOpt(da ? mul(da, m) : null, db ? mul(db, sub(1, m)) : null);
  },
});

// Comparisons give 1.0 where true and 0.0 where false; they are constants for autodiff.
const cmp = (name: string, op: string) => binary(name, `select(0.0, 1.0, a ${op} b)`, { nondiff: true });
/** 1 where a < b, else 0 (a constant for autodiff). */
export const less = cmp('less', '<');
/** 1 where a <= b, else 0 (a constant for autodiff). */
export const lessEqual = cmp('lessEqual', '<=');
/** 1 where a > b, else 0 (a constant for autodiff). */
export const greater = cmp('greater', '>');
/** 1 where a >= b, else 0 (a constant for autodiff). */
export const greaterEqual = cmp('greaterEqual', '>=');
/** 1 where a == b, else 0 (a constant for autodiff). */
export const equal = cmp('equal', '==');
/** 1 where a != b, else 0 (a constant for autodiff). */
export const notEqual = cmp('notEqual', '!=');

// ---- where ----------------------------------------------------------------------------------

const whereP: Primitive<null> = {
  name: 'where',
  saves: { inputs: [0], output: false },
  vjp: (g, { inputs: [c], shapes, wants }) => [
    null,
    wants[1] ? unbroadcast(where(c!, g, 0), shapes[1]!) : null,
    wants[2] ? unbroadcast(where(c!, 0, g), shapes[2]!) : null,
  ],
  jvp: (dots, { inputs: [c], out, nb }) => {
    const [, da, db] = lift2(dots, out.rank, nb);
    return addOpt(da ? where(c!, da, 0) : null, db ? where(c!, 0, db) : null);
  },
};

/** cond != 0 ? a : b, elementwise with broadcasting. cond is not differentiated. */
export function where(cond: Operand, a: Operand, b: Operand): Tensor {
  const [tc, ta, tb] = [asTensor(cond), asTensor(a), asTensor(b)];
  checkF32('where', tc, ta, tb);
  const shape = broadcastShapes('where', tc.shape, ta.shape, tb.shape);
  return record(whereP, [tc, ta, tb], launchBroadcast('select(c, b, a != 0.0)', [tc, ta, tb], shape), null);
}
