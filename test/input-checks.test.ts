// Inputs that used to be taken silently (issue 13, items 3 and 5): a dtype the library does not
// have is refused by name, and a seed outside the supported range is refused with the range
// (the command's --seed and the library's random ops and CPU generator).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { mulberry32 } from '../src/data/random.js';
import { parseOptions, UsageError } from '../src/experiments/registry.js';
import { findExperiment } from '../src/experiments/index.js';
import { setup, throwsWith } from './helpers.js';

const s = suite('input-checks');
s.before(setup);

s('an unsupported dtype is refused by name when a tensor is made', async () => {
  const live = ht.memory().liveBytes;
  for (const dtype of ['f64', 'float32', 'u8', 'bool']) {
    await throwsWith(() => ht.tensor([1.5], undefined, dtype as ht.DType), ['tensor()', `"${dtype}"`, 'f32 or i32']);
    await throwsWith(() => ht.tensor(new Float32Array([1.5]), [1], dtype as ht.DType), [`"${dtype}"`]);
    await throwsWith(() => ht.empty([2], dtype as ht.DType), ['empty', `"${dtype}"`]);
    await throwsWith(() => ht.zeros([2], dtype as ht.DType), ['full', `"${dtype}"`]);
    await throwsWith(() => ht.arange(0, 3, 1, dtype as ht.DType), ['arange', `"${dtype}"`]);
  }
  assert.is(ht.memory().liveBytes, live, 'nothing was allocated for a refused tensor');
  // The two real dtypes still work.
  assert.equal(Array.from(await ht.tensor([1.5], undefined, 'f32').data()), [1.5]);
  assert.equal(Array.from(await ht.tensor([2], undefined, 'i32').data()), [2]);
});

s('a seed outside the supported range is refused with the range', async () => {
  for (const seed of [2 ** 53, 1e300, -1, 0.5, NaN]) {
    await throwsWith(() => ht.randomNormal([2], { seed }), ['seed', '[0, 2^53 - 1]', String(seed)]);
    await throwsWith(() => ht.randomUniform([2], { seed }), ['seed', '[0, 2^53 - 1]']);
  }
  for (const seed of [2 ** 32, 1e300, -1, 1.5]) {
    await throwsWith(() => mulberry32(seed), [String(seed), '[0, 4294967295]']);
  }
  assert.is(mulberry32(4294967295)() === mulberry32(0)(), false, 'the largest seed is not taken as seed 0');
  const toy = findExperiment('toy')!;
  for (const raw of ['4294967296', '1e300', '-1']) {
    await throwsWith(() => parseOptions(toy, ['--seed', raw]), ['--seed', '[0, 4294967295]', raw]);
    assert.throws(() => parseOptions(toy, ['--seed', raw]), (err: unknown) => err instanceof UsageError);
  }
  assert.is(parseOptions(toy, ['--seed', '4294967295']).common.seed, 4294967295);
});

s.run();
