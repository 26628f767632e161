// Out-of-range indices (issue 13, item 2) never read as zeros silently: indices known on the CPU
// (made from CPU data or by arange) are checked when gather or oneHot is called; indices made on
// the GPU are checked by the kernels, and the next readback or sync throws with the offending
// index and the bound. In-range indices still give the right values, and the engine carries on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, type Tensor } from '../src/node.js';
import { setup, throwsWith, values } from './helpers.js';

const s = suite('indices');
s.before(setup);

const i32 = (v: number[]) => tensor(v, undefined, 'i32');
/** The same indices, but computed on the GPU (a slice), so the CPU does not know their range. */
const onGpu = (v: number[]) => ht.slice(i32(v), [0], [v.length]);

s('indices known on the CPU are checked at the call, with the index and the bound', async () => {
  const x = tensor([10, 20, 30]);
  await throwsWith(() => ht.gather(x, i32([5])), ['gather', 'index 5', 'axis of length 3', '0 to 2']);
  await throwsWith(() => ht.gather(x, i32([0, -1])), ['gather', 'index -1']);
  await throwsWith(() => ht.gather(tensor([[1, 2], [3, 4]]), i32([2]), 1), ['gather', 'index 2', 'length 2', 'axis 1']);
  await throwsWith(() => ht.oneHot(i32([7]), 3), ['oneHot', 'index 7', 'depth 3']);
  await throwsWith(() => ht.oneHot(ht.arange(0, 4, 1, 'i32'), 3), ['oneHot', 'index 3', 'depth 3']);
  await throwsWith(() => ht.oneHot(ht.full([2], -2, 'i32'), 3), ['oneHot', 'index -2']);
  assert.equal(await values(ht.gather(x, i32([2, 0]))), [30, 10]);
  assert.equal(await values(ht.oneHot(ht.reshape(i32([1]), [1]), 2)), [0, 1], 'a view keeps the known range');
});

s('indices made on the GPU are checked there; the next readback or sync throws', async () => {
  const x = tensor([10, 20, 30]);
  await throwsWith(() => ht.gather(x, onGpu([1, 5, -1])).data(), ['gather', 'index 5', 'axis of length 3', 'found on the GPU']);
  assert.equal(await values(ht.gather(x, onGpu([2, 1]))), [30, 20], 'the next gather is fine');
  // Reported at a sync as well, and by a readback of an unrelated tensor.
  ht.gather(x, onGpu([-4]));
  await throwsWith(() => ht.sync(), ['gather', 'index -4']);
  await ht.sync();
  ht.oneHot(onGpu([0, 3]), 3);
  await throwsWith(() => ht.add(tensor([1]), 1).data(), ['oneHot', 'index 3', 'depth 3']);
  assert.equal(await values(ht.oneHot(onGpu([0, 2]), 3)), [1, 0, 0, 0, 0, 1]);
});

s('large in-range gathers and one-hots are unaffected by the checks', async () => {
  const n = 70_000;
  const x = ht.arange(0, n);
  const idx = onGpu(Array.from({ length: n }, (_, i) => (i * 7919) % n));
  const got = await values(ht.gather(x, idx));
  assert.ok(got.every((v, i) => v === (i * 7919) % n));
  const oh: Tensor = ht.oneHot(onGpu(Array.from({ length: 1000 }, (_, i) => i % 10)), 10);
  assert.is(await ht.sum(oh).item(), 1000);
});

s.run();
