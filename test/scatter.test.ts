// The gather-sum (scatter-add) kernel (src/ops/kernels/scatter.ts): against a float64 reference,
// and bit for bit against adding each bucket's values one by one in increasing i in f32 (the
// order the kernel promises), with repeated indices, empty buckets, trailing and leading dims,
// many indices, many buckets, one huge bucket; the same bits on every run; out-of-range indices
// refused on the CPU and skipped (and reported) on the GPU.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, type Tensor } from '../src/node.js';
import { scatterChunks } from '../src/ops/kernels/scatter.js';
import { launchTuning } from '../src/ops/kernels/template.js';
import * as R from './reference.js';
import { assertClose, randArray, rng, setup, throwsWith, values } from './helpers.js';

const s = suite('scatter');
s.before(setup);

const i32 = (v: ArrayLike<number>) => tensor(Int32Array.from(v));

/** out[a, k, b] = values added one by one in increasing i, each addition rounded to f32. */
function sequentialF32(g: Float32Array, idx: ArrayLike<number>, A: number, J: number, B: number, D: number): Float32Array {
  const out = new Float32Array(A * D * B);
  for (let a = 0; a < A; a++) {
    for (let i = 0; i < J; i++) {
      const k = idx[i]!;
      for (let b = 0; b < B; b++) {
        const o = (a * D + k) * B + b;
        out[o] = Math.fround(out[o]! + g[(a * J + i) * B + b]!);
      }
    }
  }
  return out;
}

/** Runs scatterAdd on [A, J, B] values along axis 1 and checks it both ways. */
async function checkCase(A: number, J: number, B: number, D: number, idx: ArrayLike<number>, seed: number, what: string): Promise<Float32Array> {
  const g = Float32Array.from(randArray(A * J * B, seed));
  const shape = [A, J, B];
  const got = await ht.scatterAdd(tensor(g, shape), i32(idx), 1, D).data() as Float32Array;
  assert.is(got.length, A * D * B, `${what}: size`);
  const ref = R.scatterAdd(R.ref(g, shape), Array.from(idx), 1, D);
  // Each output adds at most J values of |v| < 1: the f32 sum is within J ulps of the float64 one.
  assertClose(got, ref.data, { rtol: 0, atol: 1.2e-7 * Math.max(1, J) }, `${what} against float64`);
  const seq = sequentialF32(g, idx, A, J, B, D);
  for (let o = 0; o < got.length; o++) {
    if (!Object.is(got[o], seq[o])) assert.unreachable(`${what}: output ${o} is ${got[o]}, adding in increasing i gives ${seq[o]}`);
  }
  return got;
}

s('repeated indices, empty buckets, leading and trailing dims, every axis', async () => {
  await checkCase(1, 5, 1, 4, [2, 0, 2, 1, 2], 1, 'five indices into 4 (bucket 3 empty)');
  await checkCase(3, 7, 5, 6, [5, 5, 0, 3, 5, 0, 1], 2, 'A 3, B 5 (buckets 2 and 4 empty)');
  await checkCase(2, 1, 3, 9, [8], 3, 'one index');
  await checkCase(1, 40, 1, 3, Array.from({ length: 40 }, () => 1), 4, 'every index the same');
  // Every axis of a rank-3 tensor, through the op's reshaping.
  const g = randArray(2 * 3 * 4, 5);
  const x = R.ref(g, [2, 3, 4]);
  for (const [axis, idx, depth] of [[0, [1, 1], 3], [1, [0, 2, 0], 2 + 2], [2, [3, 0, 3, 3], 5]] as const) {
    const got = await values(ht.scatterAdd(tensor(Float32Array.from(g), [2, 3, 4]), i32(idx), axis, depth));
    assertClose(got, R.scatterAdd(x, idx, axis, depth).data, { rtol: 0, atol: 1e-6 }, `axis ${axis}`);
  }
  // A negative axis counts from the end.
  const neg = await values(ht.scatterAdd(tensor(Float32Array.from(g), [2, 3, 4]), i32([3, 0, 3, 3]), -1, 5));
  assertClose(neg, R.scatterAdd(x, [3, 0, 3, 3], 2, 5).data, { rtol: 0, atol: 1e-6 }, 'axis -1');
});

s('no indices give zeros; no buckets give an empty tensor', async () => {
  assert.equal(await values(ht.scatterAdd(ht.zeros([2, 0, 3]), i32([]), 1, 2)), new Array(12).fill(0));
  const e = ht.scatterAdd(ht.zeros([0]), i32([]), 0, 0);
  assert.equal([...e.shape], [0]);
  // The output may reuse a pooled buffer that held 7s: every output is written, 0 for an empty bucket.
  const filled = ht.keep(ht.full([64], 7));
  filled.dispose();
  assert.equal(await values(ht.scatterAdd(ht.zeros([1, 0, 64]), i32([]), 1, 1)), new Array(64).fill(0));
});

s('many indices, many buckets, one huge bucket: exact, and the same bits on every run', async () => {
  const r = rng(11);
  // 300,000 indices into 1,000 buckets: 256 chunks.
  const J = 300_000;
  const idx = Int32Array.from({ length: J }, () => Math.floor(r() * 1000));
  assert.is(scatterChunks(J, 1000), 256);
  const first = await checkCase(1, J, 1, 1000, idx, 12, '300,000 into 1,000');
  const g = Float32Array.from(randArray(J, 12));
  // Again, on the small grid of CPU adapters, on one invocation per output, and on one workgroup.
  for (const cap of [null, Infinity, 1]) {
    launchTuning.maxGroups = cap;
    try {
      const again = await ht.scatterAdd(tensor(g, [1, J, 1]), i32(idx), 1, 1000).data();
      assert.equal(Array.from(new Uint32Array(Float32Array.from(again).buffer)), Array.from(new Uint32Array(first.buffer)), `grid cap ${cap}: bits differ`);
    } finally {
      launchTuning.maxGroups = null;
    }
  }
  // More buckets than the count table holds for 2 chunks: one chunk, 3M buckets mostly empty.
  const D = 3_000_000;
  assert.is(scatterChunks(50_000, D), 1);
  await checkCase(1, 50_000, 1, D, Int32Array.from({ length: 50_000 }, () => Math.floor(r() * D)), 13, '50,000 into 3M');
  // 200,000 values into one bucket, with 3 trailing columns.
  await checkCase(1, 200_000, 3, 2, new Int32Array(200_000).fill(1), 14, '200,000 into one bucket');
  // A depth that makes the count table's chunks uneven: 5,000 buckets (209 chunks).
  assert.is(scatterChunks(40_000, 5000), 209);
  await checkCase(2, 40_000, 1, 5000, Int32Array.from({ length: 40_000 }, () => Math.floor(r() * 5000)), 15, '40,000 into 5,000');
});

s('two dispatches, whatever the sizes', async () => {
  const g = ht.keep(tensor(Float32Array.from(randArray(4000, 16)), [2, 1000, 2]));
  const idx = ht.keep(i32(Array.from({ length: 1000 }, (_, i) => (i * 7) % 300)));
  await ht.sync();
  const before = ht.memory().dispatches;
  const out = ht.scatterAdd(g, idx, 1, 300);
  assert.is(ht.memory().dispatches - before, 2);
  await out.data();
  ht.dispose([g, idx, out]);
});

s('out-of-range indices: refused at the call when known on the CPU; skipped and reported when found on the GPU', async () => {
  const g = tensor([1, 2, 4, 8]);
  await throwsWith(() => ht.scatterAdd(g, i32([0, 3, 1, 0]), 0, 3), ['scatterAdd', 'index 3', 'depth 3', '0 to 2']);
  await throwsWith(() => ht.scatterAdd(g, i32([0, -1, 1, 0]), 0, 3), ['scatterAdd', 'index -1']);
  const onGpu = (v: number[]) => ht.slice(i32(v), [0], [v.length]); // range unknown on the CPU
  const bad = ht.scatterAdd(g, onGpu([0, 7, 2, -5]), 0, 3);
  await throwsWith(() => bad.data(), ['scatterAdd', 'index', 'depth 3', 'found on the GPU']);
  // Nothing was written for the bad indices: the good ones land where they belong.
  assert.equal(await values(bad), [1, 0, 4]);
  assert.equal(await values(ht.scatterAdd(g, onGpu([2, 2, 0, 1]), 0, 3)), [4, 8, 3], 'the next call is fine');
});

s('wrong arguments are refused with what was wrong', async () => {
  const g = tensor([1, 2, 3]);
  await throwsWith(() => ht.scatterAdd(g, i32([0, 1]), 0, 2), ['scatterAdd', '2 indices', 'length 3', 'must match']);
  await throwsWith(() => ht.scatterAdd(g, tensor([0, 1, 1]), 0, 2), ['scatterAdd', '1-D i32 index tensor']);
  await throwsWith(() => ht.scatterAdd(tensor([1, 2], undefined, 'i32'), i32([0, 1]), 0, 2), ['scatterAdd', 'f32 values']);
  await throwsWith(() => ht.scatterAdd(g, i32([0, 1, 1]), 1, 2), ['scatterAdd', 'axis 1']);
  await throwsWith(() => ht.scatterAdd(g, i32([0, 1, 1]), 0, 1.5), ['scatterAdd', 'depth', '1.5']);
});

s.run();
