// Binary elementwise ops with NumPy broadcasting (arithmetic, pow, maximum/minimum, clamp,
// comparisons) and the ternary `where`. Each entry: its WGSL expression and its partial
// derivatives (or, for the linear ops, explicit VJP and JVP), side by side.
//
// Conventions (README, "Ops by family"): NaN in either operand of maximum/minimum gives NaN;
// where a == b, maximum and minimum send half the gradient to each operand (as PyTorch does);
// pow's derivative in the base is 0 where the exponent is 0 (so x^0 and x^1 have finite
// derivatives of every order at x = 0, as in PyTorch), and in the exponent is 0 where the base
// is <= 0 (PyTorch gives NaN for a negative base).
import { Tensor } from '../tensor.js';
import { checkF32, record, type Primitive } from './core.js';
import { broadcastShapes, unbroadcast } from './shape.js';
import { addOpt, asTensor, binary, lift2, mapBroadcast, unaryWith, type Operand } from './map.js';
import { log, neg } from './math.js';

export type { Operand } from './map.js';

const NONE = { inputs: [], output: false };

/** a + b with broadcasting. */
export const add = binary('add', 'a + b', {
  saves: NONE,
  vjp: (g, { shapes, wants }) => [wants[0] ? unbroadcast(g, shapes[0]!) : null, wants[1] ? unbroadcast(g, shapes[1]!) : null],
  jvp: (dots, { out, nb }) => {
    const [da, db] = lift2(dots, out.rank, nb);
    return addOpt(da!, db!);
  },
});

/** a - b with broadcasting. */
export const sub = binary('sub', 'a - b', {
  saves: NONE,
  vjp: (g, { shapes, wants }) => [wants[0] ? unbroadcast(g, shapes[0]!) : null, wants[1] ? unbroadcast(neg(g), shapes[1]!) : null],
  jvp: (dots, { out, nb }) => {
    const [da, db] = lift2(dots, out.rank, nb);
    return addOpt(da, db ? neg(db) : null);
  },
});

/** a * b with broadcasting. */
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

/** a / b with broadcasting. */
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

/**
 * a^b. A negative base with a non-integer exponent gives NaN. d/da = b a^(b-1), taken as 0 where
 * b = 0 (a^0 is constant, also at a = 0 where a^(-1) is infinite); d/db = a^b log(a) where a > 0,
 * else 0.
 */
export const pow = binary('pow', 'powf(a, b)', {
  saves: { inputs: [0, 1], output: true },
  // b a^(b' - 1) with b' = 1 where b = 0: the product is 0 there, and no infinite a^(-1) enters
  // the graph, where a zero cotangent times it would make the next derivative NaN. Since this
  // rule recurs on pow itself, x^1 (whose second derivative is 1 * 0 * x^(-1)) is finite too.
  da: (a, b) => mul(b, pow(a, sub(where(equal(b, 0), 1, b), 1))),
  db: (a, _b, y) => mul(y, safeLog(a)),
});

/** log(a) where a > 0, else 0: d(a^b)/db is taken as 0 where a^b has no real log. */
function safeLog(a: Tensor): Tensor {
  return where(greater(a, 0), log(maximum(a, 1e-30)), 0);
}

// 1 where a > b, 0.5 where a == b, 0 where a < b: the share of maximum's gradient that goes to a.
const maxShare = binary('maxShare', 'select(select(0.0, 1.0, a > b), 0.5, a == b)', { nondiff: true });

/** The larger of a and b; NaN if either is NaN. Ties split the gradient equally. */
export const maximum = binary('maximum', 'max_nan(a, b)', {
  saves: { inputs: [0, 1], output: false },
  da: (a, b) => maxShare(a, b),
  db: (a, b) => maxShare(b, a),
});

/** The smaller of a and b; NaN if either is NaN. Ties split the gradient equally. */
export const minimum = binary('minimum', 'min_nan(a, b)', {
  saves: { inputs: [0, 1], output: false },
  da: (a, b) => maxShare(b, a),
  db: (a, b) => maxShare(a, b),
});

// Comparisons give 1.0 where true and 0.0 where false; they are constants for autodiff.
const cmp = (name: string, op: string) => binary(name, `select(0.0, 1.0, a ${op} b)`, { nondiff: true });
/** 1 where a < b, else 0 (broadcasting; no gradient). */
export const less = cmp('less', '<');
/** 1 where a <= b, else 0. */
export const lessEqual = cmp('lessEqual', '<=');
/** 1 where a > b, else 0. */
export const greater = cmp('greater', '>');
/** 1 where a >= b, else 0. */
export const greaterEqual = cmp('greaterEqual', '>=');
/** 1 where a == b, else 0. */
export const equal = cmp('equal', '==');
/** 1 where a != b (and where either is NaN), else 0. */
export const notEqual = cmp('notEqual', '!=');

// ---- clamp ----------------------------------------------------------------------------------

// 1 where lo <= x <= hi (bounds in p.scalars), else 0: clamp's derivative, as in PyTorch.
const inRange = unaryWith<[number, number]>('inRange', 'select(0.0, 1.0, a >= p.scalars.x && a <= p.scalars.y)', { nondiff: true });

const clampOp = unaryWith<[number, number]>('clamp', 'clamp_nan(a, p.scalars.x, p.scalars.y)', {
  d: (x, _y, [lo, hi]) => inRange(x, lo!, hi!),
});

/**
 * x limited to [lo, hi] elementwise (either bound may be omitted with undefined). NaN stays NaN.
 * The gradient is 1 where lo <= x <= hi, bounds included, and 0 outside, as in PyTorch. Bounds are
 * numbers; for tensor bounds use maximum and minimum.
 */
export function clamp(x: Tensor, lo?: number, hi?: number): Tensor {
  const l = lo ?? -Infinity;
  const h = hi ?? Infinity;
  if (Number.isNaN(l) || Number.isNaN(h) || l > h) throw new Error(`hypertape: clamp needs lo <= hi, got lo = ${lo} and hi = ${hi}`);
  return clampOp(x, l, h);
}

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

const whereCode = { name: 'where', expr: 'select(c, b, a != 0.0)' };

/** cond != 0 ? a : b, elementwise with broadcasting. cond is not differentiated. */
export function where(cond: Operand, a: Operand, b: Operand): Tensor {
  const [tc, ta, tb] = [asTensor(cond), asTensor(a), asTensor(b)];
  checkF32('where', tc, ta, tb);
  const shape = broadcastShapes('where', tc.shape, ta.shape, tb.shape);
  return record(whereP, [tc, ta, tb], mapBroadcast(whereCode, [cond, a, b], shape), null);
}
