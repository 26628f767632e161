// The gather-sum (scatter-add) kernels and their launch: out[a, k, b] = sum of values[a, i, b]
// over the i with idx[i] == k. WGSL has no float atomics, and adding in whatever order
// invocations happen to run would change the last bits from run to run, so the sum is done in
// gather form: shaders/scatter_index.wgsl builds the inverse of the index list (a stable
// counting sort: each bucket's members in increasing i) and shaders/scatter_sum.wgsl lets each
// output add its bucket's values in that order. The result is the same bit for bit on every run
// and equals adding the values one by one in increasing i. Two dispatches; work O(J + C D) for
// the index (one workgroup) and O(A J B + A D B) for the sums. Nothing here knows about autodiff.
import indexSrc from '../../../shaders/scatter_index.wgsl';
import sumSrc from '../../../shaders/scatter_sum.wgsl';
import { engine } from '../../gpu/device.js';
import { empty, type Shape, type Tensor } from '../../tensor.js';
import { paramLayout } from './params.js';
import { cappedGrid, checkInputs, kernel, memoKernel, WG } from './template.js';

/** Invocations of the index kernel's single workgroup (WebGPU's default limit). */
const INDEX_WG = 256;

/**
 * Entries of the index kernel's count table (C chunks x D buckets) that the number of chunks is
 * chosen to stay under: 2^20 u32s (4 MiB), unless D alone is larger (then C = 1).
 */
const TABLE_MAX = 2 ** 20;

/** Chunks walked by one invocation each hold at least this many indices. */
const MIN_CHUNK = 16;

/**
 * The index kernel: J indices into D buckets, walked in C chunks of `chunk`; the count table
 * has M = C D entries, scanned in segments of `seg` per invocation.
 */
const INDEX_PARAMS = paramLayout({ J: 'u32', D: 'u32', C: 'u32', chunk: 'u32', M: 'u32', seg: 'u32' });
/** The sum kernel: values [A, J, B] into out [A, D, B]; the table has C columns. */
const SUM_PARAMS = paramLayout({ A: 'u32', J: 'u32', D: 'u32', B: 'u32', C: 'u32' });

/** How many chunks the index kernel splits J indices into, for D buckets (1 to 256). */
export function scatterChunks(J: number, D: number): number {
  return Math.max(1, Math.min(INDEX_WG, Math.ceil(J / MIN_CHUNK), Math.floor(TABLE_MAX / Math.max(D, 1))));
}

/**
 * out[a, k, b] = sum over i with idx[i] == k of values[a, i, b], as a new f32 tensor of
 * `outShape`: values is viewed as [A, J, B] (contiguous) and idx holds J i32 indices into [0, D).
 * Sums run in increasing i (deterministic); an index outside [0, D) adds nothing and is
 * recorded in the engine's index-error block.
 */
export function scatterAddLaunch(values: Tensor, idx: Tensor, A: number, J: number, D: number, B: number, outShape: Shape): Tensor {
  checkInputs(values, idx);
  if (values.dtype !== 'f32' || idx.dtype !== 'i32' || idx.size !== J || values.size !== A * J * B) {
    throw new Error(`hypertape internal: scatterAddLaunch needs f32 values of ${A} x ${J} x ${B} and ${J} i32 indices, got ${values.describe()} and ${idx.describe()}`);
  }
  const out = empty(outShape);
  if (out.size !== A * D * B) {
    out.dispose();
    throw new Error(`hypertape internal: scatterAddLaunch output shape [${outShape.join(', ')}] is not ${A} x ${D} x ${B}`);
  }
  if (out.size === 0) return out;
  const e = engine();
  const C = scatterChunks(J, D);
  const M = C * D;
  const ends = empty([M], 'i32');
  const order = empty([J], 'i32');
  const indexKernel = memoKernel('scatterIndex', () => ({ ...kernel(indexSrc, { PARAMS: INDEX_PARAMS.wgsl, WG: INDEX_WG }), writable: 3 }));
  e.dispatch(indexKernel, [ends.buffer, order.buffer, e.indexErrorBuffer(), idx.buffer],
    INDEX_PARAMS.pack({ J, D, C, chunk: Math.ceil(J / C), M, seg: Math.ceil(M / INDEX_WG) }), [1]);
  const sumKernel = memoKernel('scatterSum', () => kernel(sumSrc, { PARAMS: SUM_PARAMS.wgsl, WG }));
  e.dispatch(sumKernel, [out.buffer, ends.buffer, order.buffer, values.buffer],
    SUM_PARAMS.pack({ A, J, D, B, C }), cappedGrid(out.size));
  ends.dispose();
  order.dispose();
  return out;
}
