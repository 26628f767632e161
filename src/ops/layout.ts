// Shape ops added on top of shape.ts: squeeze and expandDims (views through reshape, no copy),
// flip (a strided copy with negative strides) and tile (a broadcast between two reshapes, so its
// VJP sums the copies back through broadcastTo's rule).
import { Tensor, shapeStr } from '../tensor.js';
import { record, type Primitive } from './core.js';
import { elementwise } from './kernels/elementwise.js';
import { contiguousStrides } from './kernels/template.js';
import { broadcastTo, normAxis, reshape } from './shape.js';
import { normAxes, type Axes } from './reduce.js';

/** x without the given size-1 axes (all size-1 axes by default). No copy. */
export function squeeze(x: Tensor, axes?: Axes): Tensor {
  const ax = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes('squeeze', axes, x.rank);
  const bad = ax.filter((a) => x.shape[a] !== 1);
  if (bad.length) throw new Error(`hypertape: squeeze: axis ${bad.join(', ')} of ${x.describe()} has size ${bad.map((a) => x.shape[a]).join(', ')}, not 1`);
  return reshape(x, x.shape.filter((_, i) => !ax.includes(i)));
}

/**
 * x with new size-1 axes at `axes`, positions in the result (negative ones count from its end,
 * as NumPy's and JAX's expand_dims). No copy.
 */
export function expandDims(x: Tensor, axes: number | readonly number[]): Tensor {
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const rank = x.rank + list.length;
  const at = list.map((a) => normAxis('expandDims', a, rank));
  if (new Set(at).size !== at.length) throw new Error(`hypertape: expandDims: repeated axis in [${list.join(', ')}] for ${x.describe()}`);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(at.includes(i) ? 1 : x.shape[k++]!);
  return reshape(x, shape);
}

const flipP: Primitive<{ axes: number[] }> = {
  name: 'flip',
  saves: { inputs: [], output: false },
  vjp: (g, { params }) => [flip(g, params.axes)],
  jvp: ([dx], { params, nb }) => flip(dx!, params.axes.map((a) => a + nb)),
};

/** x with the order of entries reversed along `axes` (all by default). */
export function flip(x: Tensor, axes?: Axes): Tensor {
  const ax = normAxes('flip', axes, x.rank);
  const own = contiguousStrides(x.shape);
  // Read backwards: start at the last entry of each flipped axis, with a negative stride (u32
  // arithmetic in the kernel wraps, so offset + c * stride lands on the right element).
  const offset = ax.reduce((acc, a) => acc + Math.max(0, x.shape[a]! - 1) * own[a]!, 0);
  const strides = own.map((s, i) => (ax.includes(i) ? -s : s));
  const out = elementwise({ shape: x.shape, expr: 'a', inputs: [{ tensor: x, offset, strides }], outDtype: x.dtype });
  return record(flipP, [x], out, { axes: ax });
}

/**
 * x repeated reps[i] times along axis i (NumPy's tile: reps shorter than x's rank repeat the
 * last axes; longer ones add leading axes).
 */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  if (reps.some((r) => !Number.isInteger(r) || r < 0)) throw new Error(`hypertape: tile: reps ${shapeStr(reps)} must be non-negative integers`);
  const rank = Math.max(x.rank, reps.length);
  const shape = [...new Array<number>(rank - x.rank).fill(1), ...x.shape];
  const r = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  // [d0, d1, ...] -> [1, d0, 1, d1, ...] -> broadcast [r0, d0, r1, d1, ...] -> [r0 d0, r1 d1, ...].
  const spread = reshape(x, shape.flatMap((d) => [1, d]));
  const copies = broadcastTo(spread, shape.flatMap((d, i) => [r[i]!, d]));
  return reshape(copies, shape.map((d, i) => d * r[i]!));
}
