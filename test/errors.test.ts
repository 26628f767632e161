// Bad input: every mistake throws an Error that names the op and what was wrong (shapes in shape
// errors), nothing crashes the process or hangs, and the engine keeps working afterwards.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, type Tensor } from '../src/node.js';
import { setup, throwsWith } from './helpers.js';

const s = suite('errors');
s.before(setup);

/** After an error the engine must still compute correctly. */
async function stillWorks(): Promise<void> {
  const y = ht.add(tensor([[1, 2], [3, 4]]), tensor([10, 20]));
  assert.equal(await y.array(), [[11, 22], [13, 24]]);
}

s.after.each(stillWorks);

s('a shape mismatch names the op and both shapes', async () => {
  const a = tensor(new Float32Array(6), [2, 3]);
  const b = tensor(new Float32Array(4), [4]);
  for (const [name, fn] of [['add', ht.add], ['mul', ht.mul], ['sub', ht.sub], ['div', ht.div], ['maximum', ht.maximum], ['less', ht.less]] as const) {
    await throwsWith(() => fn(a, b), [name, '[2, 3]', '[4]']);
  }
  await throwsWith(() => ht.where(tensor([1, 0]), a, b), ['where', '[2]', '[2, 3]', '[4]']);
  const m1 = tensor(new Float32Array(6), [2, 3]);
  const m2 = tensor(new Float32Array(8), [4, 2]);
  await throwsWith(() => ht.matmul(m1, m2), ['matmul', '[2, 3]', '[4, 2]']);
  await throwsWith(() => ht.matmul(m1, m1, { transB: false }), ['matmul', '[2, 3]']);
  await throwsWith(() => ht.matmul(tensor(new Float32Array(24), [2, 3, 4]), tensor(new Float32Array(60), [5, 4, 3])), ['matmul', '[2, 3, 4]', '[5, 4, 3]']);
  await throwsWith(() => ht.matmul(tensor(2), m1), ['matmul', 'rank']);
  await throwsWith(() => ht.matmul(tensor([1, 2, 3]), m1), ['matmul', '[3]', '[2, 3]', '3 vs 2']);
  await throwsWith(() => ht.concat([m1, m2], 0), ['concat', '[2, 3]', '[4, 2]']);
});

s('a broadcast that cannot happen says which shapes', async () => {
  await throwsWith(() => ht.broadcastTo(tensor([1, 2, 3]), [2, 4]), ['broadcastTo', '[3]', '[2, 4]']);
  await throwsWith(() => ht.broadcastTo(tensor(new Float32Array(6), [2, 3]), [3]), ['broadcastTo', '[2, 3]', '[3]']);
  await throwsWith(() => ht.add(tensor(new Float32Array(6), [3, 2]), tensor(new Float32Array(6), [2, 3])), ['add', '[3, 2]', '[2, 3]']);
});

s('an axis out of range names the op, the axis and the rank', async () => {
  const x = tensor(new Float32Array(6), [2, 3]);
  await throwsWith(() => ht.sum(x, 2), ['sum', 'axis 2', 'rank 2']);
  await throwsWith(() => ht.sum(x, [0, -3]), ['sum', 'axis -3', 'rank 2']);
  await throwsWith(() => ht.max(x, 5, true), ['max', 'axis 5']);
  await throwsWith(() => ht.mean(x, 7), ['mean', 'axis 7']);
  await throwsWith(() => ht.logsumexp(x, -4), ['logsumexp', 'axis -4']);
  await throwsWith(() => ht.softmax(x, 2), ['softmax', 'axis 2']);
  await throwsWith(() => ht.logSoftmax(x, -3), ['logSoftmax', 'axis -3']);
  await throwsWith(() => ht.argmax(x, 2), ['argmax', 'axis 2']);
  await throwsWith(() => ht.concat([x, x], 2), ['concat', 'axis 2']);
  await throwsWith(() => ht.gather(x, tensor(Int32Array.from([0])), 3), ['gather', 'axis 3']);
  await throwsWith(() => ht.stack([x, x], 4), ['stack', 'axis 4']);
  await throwsWith(() => ht.sum(x, 0.5), ['sum', 'axis 0.5']);
});

s('a disposed tensor used again says so, in ops and in readback', async () => {
  const x = tensor([1, 2, 3]);
  x.name = 'weights';
  x.dispose();
  await throwsWith(() => ht.add(x, 1), ['disposed', "'weights'"]);
  await throwsWith(() => ht.exp(x), ['disposed']);
  await throwsWith(() => ht.matmul(ht.reshape(tensor([1, 2, 3]), [1, 3]), ht.reshape(x, [3, 1])), ['disposed']);
  await throwsWith(() => x.data(), ['disposed']);
  await throwsWith(() => x.item(), ['item', 'one element']);
  x.dispose(); // disposing twice is harmless
  const kept = ht.tidy(() => {
    const t = tensor([4, 5]);
    return { t, inner: ht.mul(t, 2) };
  });
  assert.equal(Array.from(await kept.t.data()), [4, 5], 'a tensor returned from tidy() inside an object was freed');
  assert.equal(Array.from(await kept.inner.data()), [8, 10]);
});

s('a tensor freed by tidy() is reported as disposed', async () => {
  let inner: Tensor | null = null;
  ht.tidy(() => {
    inner = tensor([1, 2]);
    return tensor([3]);
  });
  await throwsWith(() => ht.neg(inner!), ['disposed', 'tidy']);
});

s('a wrong dtype names the op and the dtype', async () => {
  const labels = tensor(Int32Array.from([1, 2, 3]));
  for (const [name, fn] of [['exp', ht.exp], ['log', ht.log], ['sigmoid', ht.sigmoid], ['sum', ht.sum], ['softmax', ht.softmax]] as const) {
    await throwsWith(() => (fn as (t: Tensor) => Tensor)(labels), [name, 'i32']);
  }
  await throwsWith(() => ht.add(labels, 1), ['add', 'i32']);
  await throwsWith(() => ht.matmul(ht.reshape(labels, [1, 3]), tensor([[1], [2], [3]])), ['matmul', 'i32']);
  await throwsWith(() => ht.gather(tensor([1, 2, 3]), tensor([0, 1]), 0), ['gather', 'i32', 'f32']);
  await throwsWith(() => ht.oneHot(tensor([0, 1]), 3), ['oneHot', 'i32']);
  await throwsWith(() => tensor([1.5, 2], undefined, 'i32'), ['i32', 'integer']);
  await throwsWith(() => ht.full([2], 0.5, 'i32'), ['i32', '0.5']);
});

s('reshape to a wrong size gives both shapes and sizes', async () => {
  const x = tensor(new Float32Array(12), [3, 4]);
  await throwsWith(() => ht.reshape(x, [5, 2]), ['reshape', '[3, 4]', '12', '[5, 2]']);
  await throwsWith(() => ht.reshape(x, [-1, 5]), ['reshape', '[3, 4]', '[-1, 5]']);
  await throwsWith(() => ht.reshape(x, [2.5, 4]), ['reshape', '[2.5, 4]']);
});

s('other bad arguments: slices, pads, permutations, creation, seeds', async () => {
  const x = tensor(new Float32Array(12), [3, 4]);
  await throwsWith(() => ht.slice(x, [1, 2], [3, 1]), ['slice', 'axis 0', '[3, 4]']);
  await throwsWith(() => ht.slice(x, [0], [1]), ['slice', '2 entries']);
  await throwsWith(() => ht.pad(x, [1, -1], [0, 0]), ['pad', 'non-negative']);
  await throwsWith(() => ht.permute(x, [0, 0]), ['permute', '[0, 0]']);
  await throwsWith(() => ht.transpose(tensor([1, 2])), ['transpose', 'rank']);
  await throwsWith(() => tensor([[1, 2], [3]]), ['ragged']);
  await throwsWith(() => tensor(new Float32Array(5), [2, 3]), ['5 values', '[2, 3]']);
  await throwsWith(() => ht.zeros([2, -1]), ['shape', '[2, -1]']);
  await throwsWith(() => ht.randomNormal([3], { seed: -1 }), ['seed', '-1']);
  await throwsWith(() => ht.arange(0, 5, 0), ['arange', 'step']);
  await throwsWith(() => ht.oneHot(tensor(Int32Array.from([1])), 0), ['oneHot', 'depth']);
  await throwsWith(() => ht.concat([], 0), ['concat', 'at least one']);
});

s('an error inside tidy() frees what the scope made', async () => {
  await ht.sync();
  const before = ht.memory();
  await throwsWith(() => ht.tidy(() => {
    const a = ht.exp(tensor(new Float32Array(1000), [10, 100]));
    const b = ht.sum(a, 1);
    return ht.matmul(a, ht.reshape(b, [1, 10])); // inner dims 100 vs 1
  }), ['matmul', '[10, 100]', '[1, 10]']);
  const after = ht.memory();
  assert.is(after.liveBuffers, before.liveBuffers, 'buffers leaked by a failed tidy()');
  assert.is(after.liveBytes, before.liveBytes);
});

s('an unknown backend is refused with the choices', async () => {
  // HYPERTAPE_BACKEND overrides the option by design, so it is lifted for this check.
  const saved = process.env.HYPERTAPE_BACKEND;
  delete process.env.HYPERTAPE_BACKEND;
  try {
    await throwsWith(() => ht.init({ backend: 'metal' as 'vulkan' }), ['metal', 'vulkan', 'opengles']);
  } finally {
    if (saved !== undefined) process.env.HYPERTAPE_BACKEND = saved;
  }
});

s.run();
