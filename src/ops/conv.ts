// 2-D convolution (cross-correlation, as in PyTorch and every deep-learning library), NCHW:
//   x [N, C, H, W], w [O, C, kh, kw]  ->  out [N, O, Ho, Wo],
//   out[n, o, oy, ox] = sum_{c, ki, kj} w[o, c, ki, kj] x[n, c, oy sh + ki - ph, ox sw + kj - pw],
// with x zero outside its H x W, Ho = floor((H + 2 ph - kh) / sh) + 1 and likewise Wo.
//
// Design: two linear primitives that are each other's transposes, im2col (the patches as the
// columns of a [C kh kw, Ho Wo] matrix per image, a gather kernel) and col2im (a gather-form sum
// in which each pixel adds up the patch entries that cover it: no atomics, deterministic), plus
// the existing matmul. conv2d is itself a primitive whose forward pass runs im2col and one batched
// matmul without recording them, so a tape saves x and w (not the 9x larger patches); its rules
// are written with im2col, col2im and matmul, all differentiable ops, so every derivative of a
// derivative works:
//   input gradient  dx = col2im(W^T g)            (the transposed convolution),
//   weight gradient dW = sum_n g_n im2col(x)_n^T  (the correlation of x with g),
//   tangent         conv2d(dx, w) + conv2d(x, dw) (conv2d is bilinear).
// The patches of a whole batch can exceed a storage binding (128 MiB by default: 100 images of
// 64 channels at 28 x 28 with a 3 x 3 kernel take 180 MB), so they are made a chunk of images at
// a time.
import { empty, sizeOf, type Tensor } from '../tensor.js';
import { engine } from '../gpu/device.js';
import { checkF32, record, type Primitive } from './core.js';
import { matmulLaunch } from './kernels/matmul.js';
import { col2imLaunch, im2colLaunch, type ConvGeometry } from './kernels/conv.js';
import { concat, permute, reshape, slice } from './shape.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { add } from './elementwise.js';

export { maxPool2d, type MaxPoolOptions } from './pool.js';
export { batchNorm, type BatchNormOptions } from './norm.js';
export type { ConvGeometry } from './kernels/conv.js';

/** Options of conv2d. A number applies to both spatial axes; a pair is [rows, columns]. */
export interface Conv2dOptions {
  /** Step between patches (default 1); positive integers. */
  stride?: number | [number, number];
  /** Zeros added on each side of the input (default 0); non-negative integers. */
  padding?: number | [number, number];
}

/** Parses a number-or-pair option into [rows, columns] of integers >= min; throws naming `op`. */
function intPair(op: string, name: string, v: number | readonly number[] | undefined, dflt: number, min: number): [number, number] {
  const pair = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [...v];
  if (pair.length !== 2 || pair.some((e) => typeof e !== 'number' || !Number.isInteger(e) || e < min)) {
    const what = min > 0 ? 'a positive integer' : 'a non-negative integer';
    throw new Error(`hypertape: ${op}: ${name} must be ${what} or a pair [rows, columns] of them, got ${JSON.stringify(v)}`);
  }
  return pair as [number, number];
}

/** Checks conv2d's operands and options and works out where the patches lie. */
function geometry(x: Tensor, w: Tensor, opts: Conv2dOptions): ConvGeometry {
  if (x.rank !== 4) throw new Error(`hypertape: conv2d needs x of shape [N, C, H, W] (NCHW), got ${x.describe()}`);
  if (w.rank !== 4) throw new Error(`hypertape: conv2d needs w of shape [O, C, kh, kw], got ${w.describe()}`);
  const [, C, H, W] = x.shape as [number, number, number, number];
  const [, Cw, kh, kw] = w.shape as [number, number, number, number];
  if (C !== Cw) {
    throw new Error(`hypertape: conv2d: x ${x.describe()} has ${C} channels but w ${w.describe()} expects ${Cw} ` +
      `(x is [N, C, H, W], w is [O, C, kh, kw])`);
  }
  const [sh, sw] = intPair('conv2d', 'stride', opts.stride, 1, 1);
  const [ph, pw] = intPair('conv2d', 'padding', opts.padding, 0, 0);
  if (kh > H + 2 * ph || kw > W + 2 * pw) {
    throw new Error(`hypertape: conv2d: the ${kh}x${kw} kernel of w ${w.describe()} is larger than the padded input ` +
      `${H + 2 * ph}x${W + 2 * pw} (x ${x.describe()} with padding [${ph}, ${pw}]); pad more or use a smaller kernel`);
  }
  if (kh === 0 || kw === 0) throw new Error(`hypertape: conv2d: w ${w.describe()} has an empty kernel`);
  return { C, H, W, kh, kw, sh, sw, ph, pw, Ho: Math.floor((H + 2 * ph - kh) / sh) + 1, Wo: Math.floor((W + 2 * pw - kw) / sw) + 1 };
}

const patchRows = (g: ConvGeometry): number => g.C * g.kh * g.kw;
const patchCols = (g: ConvGeometry): number => g.Ho * g.Wo;

/**
 * Bytes of patches per chunk of images: null for the device's storage binding limit. Tests lower
 * it to run the chunked path on small inputs.
 */
export const convTuning: { maxPatchBytes: number | null } = { maxPatchBytes: null };

/** Ranges [n0, n0 + n) of images whose patches fit one storage binding. */
function imageChunks(N: number, g: ConvGeometry): [number, number][] {
  const perImage = 4 * patchRows(g) * patchCols(g);
  const limit = convTuning.maxPatchBytes ?? engine().device.limits.maxStorageBufferBindingSize;
  if (perImage > limit) {
    throw new Error(`hypertape: conv2d: the patches of one image of [${g.C}, ${g.H}, ${g.W}] under a ${g.kh}x${g.kw} kernel ` +
      `take ${perImage} bytes, more than this device binds at once (${limit}); use a larger stride or fewer channels`);
  }
  const per = Math.max(1, Math.floor(limit / perImage));
  const out: [number, number][] = [];
  for (let n0 = 0; n0 < N; n0 += per) out.push([n0, Math.min(per, N - n0)]);
  return out;
}

/** Runs f on each chunk of images (slicing the batch axis of `ts` only when there are several). */
function byChunks(N: number, g: ConvGeometry, ts: Tensor[], f: (...parts: Tensor[]) => Tensor): Tensor[] {
  const chunks = imageChunks(N, g);
  if (chunks.length <= 1) return [f(...ts)];
  return chunks.map(([n0, n]) => f(...ts.map((t) => slice(t, [n0, ...t.shape.slice(1).map(() => 0)], [n, ...t.shape.slice(1)]))));
}

// ---- im2col and col2im, each other's transposes ------------------------------------------------

/** Merges the leading `nb` tangent dims into the batch axis, applies f, and splits them again. */
function foldBatch(t: Tensor, nb: number, f: (t: Tensor) => Tensor): Tensor {
  if (nb === 0) return f(t);
  const lead = t.shape.slice(0, nb);
  const [N, ...rest] = t.shape.slice(nb);
  const y = f(reshape(t, [sizeOf(lead) * N!, ...rest]));
  return reshape(y, [...lead, N!, ...y.shape.slice(1)]);
}

const im2colP: Primitive<ConvGeometry> = {
  name: 'im2col',
  saves: { inputs: [], output: false },
  vjp: (g, { params }) => [col2im(g, params)],
  jvp: ([dx], { params, nb }) => foldBatch(dx!, nb, (d) => im2col(d, params)),
};

/**
 * The patches of x [N, C, H, W] as [N, C kh kw, Ho Wo] (entries in the padding are 0), made a
 * chunk of images at a time. (The rules call it per chunk, so that each result fits a binding.)
 */
export function im2col(x: Tensor, g: ConvGeometry): Tensor {
  checkF32('im2col', x);
  if (x.rank !== 4 || x.shape[1] !== g.C || x.shape[2] !== g.H || x.shape[3] !== g.W) {
    throw new Error(`hypertape: im2col: x ${x.describe()} is not [N, ${g.C}, ${g.H}, ${g.W}]`);
  }
  const N = x.shape[0]!;
  const chunks = imageChunks(N, g);
  const out = chunks.length <= 1
    ? im2colLaunch(x, g, 0, N)
    : joinChunks([N, patchRows(g), patchCols(g)], chunks.map(([n0, n]) => im2colLaunch(x, g, n0, n)), chunks, patchRows(g) * patchCols(g));
  return record(im2colP, [x], out, g);
}

const col2imP: Primitive<ConvGeometry> = {
  name: 'col2im',
  saves: { inputs: [], output: false },
  vjp: (g, { params }) => [im2col(g, params)],
  jvp: ([dc], { params, nb }) => foldBatch(dc!, nb, (d) => col2im(d, params)),
};

/** The transpose of im2col: cols [N, C kh kw, Ho Wo] summed into [N, C, H, W]. */
export function col2im(cols: Tensor, g: ConvGeometry): Tensor {
  checkF32('col2im', cols);
  if (cols.rank !== 3 || cols.shape[1] !== patchRows(g) || cols.shape[2] !== patchCols(g)) {
    throw new Error(`hypertape: col2im: cols ${cols.describe()} is not [N, ${patchRows(g)}, ${patchCols(g)}]`);
  }
  return record(col2imP, [cols], col2imLaunch(cols, g, cols.shape[0]!), g);
}

// ---- conv2d -----------------------------------------------------------------------------------

/** The transposed convolution: the input gradient col2im(W^T g) for g [N, O, Ho Wo]. */
function convInputGrad(g3: Tensor, w: Tensor, geo: ConvGeometry): Tensor {
  const w2 = reshape(w, [w.shape[0]!, patchRows(geo)]);
  const parts = byChunks(g3.shape[0]!, geo, [g3], (gc) => col2im(matmul(w2, gc, { transA: true }), geo));
  return parts.length === 1 ? parts[0]! : concat(parts, 0);
}

/** The weight gradient: the correlation sum_n g_n im2col(x)_n^T, shaped like w. */
function convWeightGrad(x: Tensor, g3: Tensor, geo: ConvGeometry, wShape: readonly number[]): Tensor {
  const parts = byChunks(x.shape[0]!, geo, [x, g3], (xc, gc) => sum(matmul(gc, im2col(xc, geo), { transB: true }), 0));
  return reshape(parts.reduce((a, b) => add(a, b)), wShape);
}

const conv2dP: Primitive<ConvGeometry> = {
  name: 'conv2d',
  saves: { inputs: [0, 1], output: false },
  vjp: (g, { inputs: [x, w], wants, params: geo }) => {
    const g3 = reshape(g, [g.shape[0]!, g.shape[1]!, patchCols(geo)]);
    return [wants[0] ? convInputGrad(g3, w!, geo) : null, wants[1] ? convWeightGrad(x!, g3, geo, w!.shape) : null];
  },
  jvp: ([dx, dw], { inputs: [x, w], params: geo, nb }) => {
    const viaX = dx ? foldBatch(dx, nb, (d) => convWith(d, w!, geo)) : null;
    let viaW: Tensor | null = null;
    if (dw) {
      // The directions of dw become extra output channels, then move in front.
      const [O, C, kh, kw] = w!.shape as number[];
      const lead = dw.shape.slice(0, nb);
      const y = convWith(x!, reshape(dw, [sizeOf(lead) * O!, C!, kh!, kw!]), geo); // [N, B O, Ho, Wo]
      viaW = nb === 0 ? y : permute(reshape(y, [y.shape[0]!, ...lead, O!, geo.Ho, geo.Wo]),
        [...lead.map((_, i) => i + 1), 0, nb + 1, nb + 2, nb + 3]);
    }
    return viaX && viaW ? add(viaX, viaW) : (viaX ?? viaW);
  },
};

/** conv2d for a checked geometry: im2col and a batched matmul, per chunk of images, unrecorded. */
function convWith(x: Tensor, w: Tensor, geo: ConvGeometry): Tensor {
  checkF32('conv2d', x, w);
  const N = x.shape[0]!;
  const O = w.shape[0]!;
  const [CK, L] = [patchRows(geo), patchCols(geo)];
  const shape = [N, O, geo.Ho, geo.Wo];
  const chunks = imageChunks(N, geo);
  if (chunks.length === 0) return record(conv2dP, [x, w], empty(shape), geo);
  const parts = chunks.map(([n0, n]) => {
    const cols = im2colLaunch(x, geo, n0, n);
    // W [O, CK] (broadcast over images) @ cols [n, CK, L] = out [n, O, L], already NCHW.
    const part = matmulLaunch(w, cols, { M: O, N: L, K: CK, batch: n, aBatch: 0, aRow: CK, aCol: 1, bBatch: CK * L, bRow: L, bCol: 1 }, [n, O, L]);
    cols.dispose();
    return part;
  });
  let out: Tensor;
  if (parts.length === 1) {
    out = parts[0]!.untracedView(shape);
    parts[0]!.dispose();
  } else {
    out = joinChunks(shape, parts, chunks, O * L);
  }
  return record(conv2dP, [x, w], out, geo);
}

/** Joins the per-chunk outputs into one tensor by buffer copies. */
function joinChunks(shape: number[], parts: Tensor[], chunks: [number, number][], perImage: number): Tensor {
  const whole = empty(shape);
  parts.forEach((p, i) => {
    if (p.size > 0) engine().copy(p.buffer, 0, whole.buffer, 4 * chunks[i]![0] * perImage, 4 * p.size);
    p.dispose();
  });
  return whole;
}

/**
 * 2-D convolution (cross-correlation) of x [N, C, H, W] with w [O, C, kh, kw], NCHW, with stride
 * and zero padding: out [N, O, Ho, Wo], Ho = floor((H + 2 p - kh) / s) + 1. No bias (add one of
 * shape [O, 1, 1], which broadcasts). Differentiable to any order in x and w.
 */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  checkF32('conv2d', x, w);
  return convWith(x, w, geometry(x, w, options));
}
