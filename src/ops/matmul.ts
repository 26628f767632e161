// Matrix product, 2-D and batched (batch dims broadcast), with transpose flags that the kernel
// absorbs into its strides. VJP and JVP are matmuls with the flags rearranged. A 1-D operand
// follows NumPy: it becomes a row (first operand) or a column (second), and that axis is dropped
// from the result; the reshapes around the product carry the derivatives.
import { Tensor, shapeStr, sizeOf } from '../tensor.js';
import { checkF32, record, type Primitive } from './core.js';
import { lazyMatmul } from './fusion/graph.js';
import { matmulLaunch } from './kernels/matmul.js';
import { broadcastShapes, broadcastTo, unbroadcast, liftTangent, reshape } from './shape.js';
import { add } from './elementwise.js';

/** Options of {@link matmul}: transposes absorbed into the kernel's strides (no copy). */
export interface MatmulOptions {
  /** Use A^T (the last two axes swapped). */
  transA?: boolean;
  /** Use B^T. */
  transB?: boolean;
}

interface Params {
  transA: boolean;
  transB: boolean;
}

const matmulP: Primitive<Params> = {
  name: 'matmul',
  saves: { inputs: [0, 1], output: false },
  // C = op(A) op(B); dA and dB are again single matmuls, no explicit transposes.
  vjp: (g, { inputs: [a, b], shapes, wants, params: { transA, transB } }) => {
    const da = !wants[0] ? null : transA
      ? matmul(b!, g, { transA: transB, transB: true }) // dA = op(B) g^T
      : matmul(g, b!, { transB: !transB }); // dA = g op(B)^T
    const db = !wants[1] ? null : transB
      ? matmul(g, a!, { transA: true, transB: transA }) // dB = g^T op(A)
      : matmul(a!, g, { transA: !transA }); // dB = op(A)^T g
    return [da && unbroadcast(da, shapes[0]!), db && unbroadcast(db, shapes[1]!)];
  },
  // A tangent's batch dims sit in front of the primal's, so a lower-rank operand's tangent is
  // first lifted to the output's rank: its batch dims then line up with the output's.
  jvp: ([da, db], { inputs: [a, b], out, params, nb }) => {
    const t1 = da ? matmul(liftTangent(da, nb, out.rank), b!, params) : null;
    const t2 = db ? matmul(a!, liftTangent(db, nb, out.rank), params) : null;
    return t1 && t2 ? add(t1, t2) : (t1 ?? t2);
  },
};

/**
 * op(A) @ op(B) over the last two axes; leading axes are batch dims and broadcast
 * ([..., M, K] @ [..., K, N] -> [..., M, N]). A 1-D operand is a vector, as in NumPy: [K] @ [..., K, N]
 * gives [..., N], [..., M, K] @ [K] gives [..., M], and [K] @ [K] a rank-0 dot product.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkF32('matmul', a, b);
  if (a.rank === 0 || b.rank === 0) {
    throw new Error(`hypertape: matmul needs operands of rank >= 1, got ${a.describe()} and ${b.describe()} (use mul for a scalar)`);
  }
  if (a.rank === 1 || b.rank === 1) {
    if ((a.rank === 1 && opts.transA) || (b.rank === 1 && opts.transB)) {
      throw new Error(`hypertape: matmul: a transpose flag on a 1-D operand (${a.describe()} @ ${b.describe()}, transA ${!!opts.transA}, transB ${!!opts.transB}) has no meaning; drop it`);
    }
    const ka = a.rank === 1 ? a.shape[0]! : a.shape[a.rank - (opts.transA ? 2 : 1)]!;
    const kb = b.rank === 1 ? b.shape[0]! : b.shape[b.rank - (opts.transB ? 1 : 2)]!;
    if (ka !== kb) {
      throw new Error(`hypertape: matmul: inner dims differ: ${a.describe()}${opts.transA ? '^T' : ''} @ ${b.describe()}${opts.transB ? '^T' : ''} (${ka} vs ${kb}; a 1-D operand is a vector of length K)`);
    }
    const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
    const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
    const c = matmul(a2, b2, opts);
    const shape = c.shape.slice(0, -2).concat(a.rank === 1 ? [] : [c.shape[c.rank - 2]!], b.rank === 1 ? [] : [c.shape[c.rank - 1]!]);
    return reshape(c, shape);
  }
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const [ar, ac] = [a.shape[a.rank - 2]!, a.shape[a.rank - 1]!];
  const [br, bc] = [b.shape[b.rank - 2]!, b.shape[b.rank - 1]!];
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const Kb = transB ? bc : br;
  const N = transB ? br : bc;
  if (K !== Kb) {
    throw new Error(`hypertape: matmul: inner dims differ: ${a.describe()}${transA ? '^T' : ''} @ ${b.describe()}${transB ? '^T' : ''} (${K} vs ${Kb})`);
  }
  let batchShape: number[];
  try {
    batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    throw new Error(`hypertape: matmul: the batch dims of ${a.describe()} and ${b.describe()} cannot be broadcast together ` +
      `(${shapeStr(a.shape.slice(0, -2))} vs ${shapeStr(b.shape.slice(0, -2))})`);
  }
  const batch = sizeOf(batchShape);
  // An operand whose batch is neither full nor a single matrix is expanded first.
  const fit = (t: Tensor, rows: number, cols: number): [Tensor, number] => {
    const tb = sizeOf(t.shape.slice(0, -2));
    if (tb === batch) return [t, rows * cols];
    if (tb === 1) return [t, 0];
    return [broadcastTo(t, [...batchShape, rows, cols]), rows * cols];
  };
  const [A, aBatch] = fit(a, ar, ac);
  const [B, bBatch] = fit(b, br, bc);
  const layout = {
    M, N, K, batch,
    aBatch, aRow: transA ? 1 : ac, aCol: transA ? ac : 1,
    bBatch, bRow: transB ? 1 : bc, bCol: transB ? bc : 1,
  };
  const outShape = [...batchShape, M, N];
  // Pending (computed when needed, or as the kernel of the elementwise graph that reads it);
  // an empty product or K = 0 (zeros) at once.
  const out = K > 0 && sizeOf(outShape) > 0 ? lazyMatmul(A, B, layout, outShape) : matmulLaunch(A, B, layout, outShape);
  if (A !== a) A.dispose();
  if (B !== b) B.dispose();
  if (out.shape.length !== batchShape.length + 2) throw new Error(`hypertape internal: matmul shape ${shapeStr(out.shape)}`);
  return record(matmulP, [a, b], out, { transA, transB });
}
