// Copies of a pending graph over another shape, for the lazy ops layer (./graph.ts): a pending
// input broadcast by its consumer, recomputed inline through broadcast strides when that is cheap,
// and a pending value reshaped, when its flat index means the same under the new shape. The
// copies are new nodes reading the same buffers; the original graph is left as it is.
import { Tensor, sizeOf, type Shape } from '../../tensor.js';
import { modeOf } from '../kernels/elementwise.js';
import { contiguousStrides } from '../kernels/template.js';
import { broadcastStrides } from '../shape.js';
import { LazyNode, leafOf, pendingNode, type Input, type Leaf } from './graph.js';

/**
 * x under a new shape (same number of elements), still pending, when x is pending and every
 * buffer its graph reads is walked contiguously or is one value: the flat index, and so the
 * element index i, means the same under both shapes. Null otherwise (the caller then realises x
 * and views its storage).
 */
export function pendingReshape(x: Tensor, shape: Shape): Tensor | null {
  const root = pendingNode(x);
  if (!root) return null;
  const seen = new Set<LazyNode>();
  const flatOnly = (n: LazyNode): boolean => {
    if (seen.has(n)) return true;
    seen.add(n);
    // A reduction or matmul is realised and viewed instead: a copy would compute it again.
    if (!n.elementwise) return false;
    return n.inputs.every((y) => (y instanceof LazyNode ? flatOnly(y) : !('storage' in y) || modeOf(n.shape, y.strides) !== 'strided'));
  };
  if (!flatOnly(root)) return null;
  const contig = contiguousStrides(shape);
  const zero = shape.map(() => 0);
  const node = copyGraph(root, shape, (leaf, from) => (modeOf(from, leaf.strides) === 'scalar' ? zero : contig));
  return new Tensor(node, shape, x.dtype);
}

/** The most work a broadcast copy may add per element of its node: nodes x repeats. */
const BROADCAST_BUDGET = 64;
/** The most nodes of a graph of one value (constants, one-element buffers) that is copied whatever the repeat. */
const ONE_VALUE_NODES = 16;

/**
 * A copy of `root`'s pending graph that computes it broadcast to `shape` (each leaf read through
 * broadcast strides), or null when that would not mean the same (a node reads the element index
 * `i`) or not pay: (nodes in the graph) x (elements of `shape` per element of the root) passes
 * BROADCAST_BUDGET, unless the graph is one value (it reads only constants and one-element
 * buffers) of at most ONE_VALUE_NODES nodes, which costs no memory traffic to recompute.
 */
export function broadcastCopy(root: LazyNode, shape: Shape): LazyNode | null {
  if (!root.elementwise) {
    // A reduction or matmul broadcast is computed and read through broadcast strides.
    root.realise();
    return null;
  }
  const repeat = sizeOf(shape) / Math.max(1, sizeOf(root.shape));
  let oneValue = true;
  const nodes = new Set<LazyNode>();
  const walk = (n: LazyNode): boolean => {
    if (nodes.has(n)) return true;
    nodes.add(n);
    if (/\bi\b/.test(n.op.expr)) return false;
    // Pending reductions and matmuls it reads are computed now (the copy reads them as buffers).
    for (const x of [...n.inputs]) if (x instanceof LazyNode && !x.elementwise) x.realise();
    for (const x of n.inputs) {
      if (x instanceof LazyNode) {
        if (!walk(x)) return false;
      } else if ('storage' in x && modeOf(n.shape, x.strides) !== 'scalar') oneValue = false;
    }
    return true;
  };
  if (!walk(root)) return null;
  if (nodes.size * repeat > BROADCAST_BUDGET && !(oneValue && nodes.size <= ONE_VALUE_NODES)) return null;
  return copyGraph(root, shape, (leaf, from) => broadcastStrides(from, shape, leaf.strides));
}

/**
 * A copy of `root`'s pending graph over `shape`, each leaf read with `strides(leaf, nodeShape)`
 * (strides over `shape`); a diamond stays a diamond. The copy holds one reference (its caller's).
 */
function copyGraph(root: LazyNode, shape: Shape, strides: (leaf: Leaf, from: Shape) => readonly number[]): LazyNode {
  const made = new Map<LazyNode, LazyNode>();
  const copy = (n: LazyNode): LazyNode => {
    if (!n.elementwise) throw new Error(`hypertape internal: copyGraph reached a pending ${n.op.name} (its callers exclude reductions and matmuls)`);
    let c = made.get(n);
    if (c) {
      c.retain();
      return c;
    }
    const inputs = n.inputs.map((x): Input => {
      if (x instanceof LazyNode) return copy(x);
      if ('storage' in x) return leafOf(x.storage, x.dtype, x.offset, strides(x, n.shape));
      return x;
    });
    c = new LazyNode(n.op, n.scalars, shape, n.dtype, inputs);
    made.set(n, c);
    return c;
  };
  return copy(root);
}
