// Memory ownership: many create/compute/dispose cycles leave the live-buffer and live-byte counts
// where they began, the pool stays bounded, and the peak counter follows what was alive.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, tidy, type Tensor } from '../src/node.js';
import { setup, randArray } from './helpers.js';

const s = suite('memory');
s.before(setup);

/** One cycle: upload, a few kernels of each family, a gradient now and then, all freed. */
function cycle(i: number, w: Tensor): Tensor {
  return tidy(() => {
    const x = tensor(Float32Array.from(randArray(48, i)), [6, 8]);
    const h = ht.tanh(ht.matmul(x, w)); // [6, 5]
    const p = ht.softmax(ht.add(h, ht.reshape(ht.sum(x, 1), [6, 1])), 1);
    const loss = ht.mean(ht.mul(p, p));
    if (i % 10 === 0) {
      const g = ht.grad((w: Tensor) => ht.sum(ht.logSoftmax(ht.matmul(x, w), 1)))(w);
      return ht.add(loss, ht.sum(g));
    }
    return loss;
  });
}

s('10,000 create/compute/dispose cycles leave liveBuffers and liveBytes where they began', async () => {
  const w = tensor(Float32Array.from(randArray(40, 1)), [8, 5]);
  // Warm-up: the scalar constants (1/n in mean, ...) are cached once per value and stay alive.
  for (let i = 0; i < 20; i++) cycle(i, w).dispose();
  await ht.sync();
  const start = ht.memory();
  let pooledMax = 0;
  let checksum = 0;
  for (let i = 0; i < 10_000; i++) {
    const out = cycle(i, w);
    if (i % 1000 === 999) {
      checksum += await out.item(); // readback in the middle of the stream of work
      pooledMax = Math.max(pooledMax, ht.memory().pooledBytes);
    }
    out.dispose();
  }
  await ht.sync();
  const end = ht.memory();
  assert.ok(Number.isFinite(checksum), 'the cycles computed non-finite values');
  assert.is(end.liveBuffers, start.liveBuffers, `live buffers went from ${start.liveBuffers} to ${end.liveBuffers}`);
  assert.is(end.liveBytes, start.liveBytes, `live bytes went from ${start.liveBytes} to ${end.liveBytes}`);
  // Each cycle computes at least its matmul, the row sums, softmax's reduction and the mean (fused kernels around them).
  assert.ok(end.dispatches - start.dispatches >= 10_000 * 4, `the cycles did less work than expected: ${end.dispatches - start.dispatches} dispatches`);
  // The pool holds reusable buffers, not one per cycle: it grows by at most a few small tensors.
  assert.ok(pooledMax - start.pooledBytes < 1 << 20, `the pool grew from ${start.pooledBytes} to ${pooledMax} bytes`);
  w.dispose();
});

s('peakBytes follows the live bytes and resetPeak starts over', async () => {
  await ht.sync();
  ht.resetPeak();
  const base = ht.memory();
  assert.is(base.peakBytes, base.liveBytes);
  const big = tensor(new Float32Array(1 << 20)); // 4 MiB (uploaded: a fill would stay pending)
  const mid = ht.memory();
  assert.is(mid.liveBytes - base.liveBytes, 4 << 20);
  big.dispose();
  const after = ht.memory();
  assert.is(after.liveBytes, base.liveBytes);
  assert.ok(after.peakBytes >= base.liveBytes + (4 << 20), 'the peak forgot the 4 MiB tensor');
  ht.resetPeak();
  assert.is(ht.memory().peakBytes, after.liveBytes);
});

s('tidy frees temporaries, keeps what it returns and what keep() marks, and nests', async () => {
  // Scalar operands (3, 1) become cached constants on first use; make them before counting.
  ht.dispose(tidy(() => [ht.mul(ht.ones([1]), 3), ht.add(ht.ones([1]), 1)]));
  await ht.sync();
  const before = ht.memory().liveBuffers;
  let kept: Tensor | null = null;
  const result = tidy(() => {
    const a = ht.ones([100]);
    kept = ht.keep(ht.mul(a, 3));
    const inner = tidy(() => {
      const t = ht.add(a, 1);
      ht.exp(t); // a temporary of the inner scope
      return { t, list: [ht.neg(t)] };
    });
    return [inner.t, inner.list[0]!];
  });
  assert.is(ht.memory().liveBuffers, before + 3, 'expected exactly the two results and the kept tensor alive');
  assert.equal(Array.from(await result[0]!.data()).slice(0, 2), [2, 2]);
  assert.equal(Array.from(await result[1]!.data()).slice(0, 2), [-2, -2]);
  assert.equal(Array.from(await kept!.data()).slice(0, 2), [3, 3]);
  ht.dispose([result, kept]);
  assert.is(ht.memory().liveBuffers, before);
});

s('a reshape shares its buffer, which is freed when the last view goes', async () => {
  await ht.sync();
  const before = ht.memory();
  const x = tensor(new Float32Array(256), [64, 4]); // uploaded: a pending fill would reshape lazily, with no buffer
  const v = ht.reshape(x, [256]);
  assert.is(ht.memory().liveBuffers, before.liveBuffers + 1, 'a reshape allocated a buffer');
  x.dispose();
  assert.equal(Array.from(await v.data()).length, 256);
  v.dispose();
  assert.is(ht.memory().liveBuffers, before.liveBuffers);
  assert.is(ht.memory().liveBytes, before.liveBytes);
});

s('buffers released before a submit are not reused by later uploads too early', async () => {
  // x is released while the command that reads it is still unsubmitted; the next tensor() may
  // reuse its buffer only after that command is submitted, or the read would see the new data.
  for (let i = 0; i < 50; i++) {
    const x = tensor(new Float32Array(256).fill(i));
    const y = ht.mul(x, 2);
    x.dispose();
    const z = tensor(new Float32Array(256).fill(-1));
    const got = await y.data();
    assert.ok(got.every((v) => v === 2 * i), `cycle ${i}: read ${got[0]} instead of ${2 * i}`);
    y.dispose();
    z.dispose();
  }
});

s.run();
