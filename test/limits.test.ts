// Over-limit work is refused before anything is encoded, and the engine stays usable after any
// rejected command (issue 13, item 8): the next small operation computes the right numbers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { setup, throwsWith } from './helpers.js';

const s = suite('limits');
s.before(setup);

async function stillWorks(): Promise<void> {
  const [a, b] = [ht.tensor([[1, 2], [3, 4]]), ht.tensor([10, 20])];
  const y = ht.add(a, b);
  assert.equal(await y.array(), [[11, 22], [13, 24]]);
  ht.dispose([a, b, y]);
}

s('a tensor over the binding limit is refused with its shape and the limit; the next op works', async () => {
  const live = ht.memory().liveBytes;
  const limit = ht.engine().maxBindingBytes;
  const n = limit / 4 + 1;
  await throwsWith(() => ht.sum(ht.ones([n])), [`f32[${n}]`, limit.toLocaleString('en-US'), 'maxStorageBufferBindingSize', 'smaller tensors']);
  await stillWorks();
  await throwsWith(() => ht.zeros([2, -1]), ['[2, -1]']);
  await throwsWith(() => ht.randomNormal([4, n]), [`f32[4, ${n}]`, 'maxStorageBufferBindingSize']);
  assert.is(ht.memory().liveBytes, live, 'nothing allocated for a refused tensor');
  // Just under the limit in bytes, but a size class above it: still bindable.
  const big = ht.full([Math.floor(limit / 4 * 0.99)], 2);
  assert.is(await ht.sum(ht.slice(big, [big.size - 3], [3])).item(), 6);
  big.dispose();
});

s('a grid over maxComputeWorkgroupsPerDimension is refused before encoding; the next op works', async () => {
  const e = ht.engine();
  const out = ht.zeros([4]);
  const kernel = { key: 'limits-test', code: '@group(0) @binding(0) var<uniform> p: vec4<u32>;\n@group(0) @binding(1) var<storage, read_write> o: array<f32>;\n@compute @workgroup_size(1) fn main() { o[0] = f32(p.x); }' };
  const over = e.device.limits.maxComputeWorkgroupsPerDimension + 1;
  await throwsWith(() => e.dispatch(kernel, [out.buffer], new Uint32Array([1, 0, 0, 0]).buffer, [over]), [`[${over}]`, 'maxComputeWorkgroupsPerDimension']);
  await stillWorks();
  // The same kernel with a legal grid runs.
  e.dispatch(kernel, [out.buffer], new Uint32Array([7, 0, 0, 0]).buffer, [1]);
  assert.is((await out.data())[0], 7);
  out.dispose();
});

s('a command the device rejects (a kernel that does not compile) is reported once; the next op works', async () => {
  const e = ht.engine();
  const out = ht.zeros([4]);
  const bad = { key: 'limits-test-bad', code: 'this is not WGSL' };
  await throwsWith(async () => {
    e.dispatch(bad, [out.buffer], new Uint32Array(4).buffer, [1]);
    await ht.sync();
  }, ['rejected']);
  await stillWorks();
  await stillWorks();
  out.dispose();
});

s.run();
