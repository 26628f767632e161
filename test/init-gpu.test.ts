// init({ gpu }) and init({ device }) take the caller's GPU: under Node the engine must still sleep
// between polls while it waits for the GPU (found when a benchmark passing its own GPU object
// spun the main thread at 94 % of a core next to lavapipe's workers).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolve } from 'node:path';
import { runNode, lastJsonLine } from './child.js';

const s = suite('init-gpu');

s('init({ gpu }) under Node: the engine sleeps between polls, and ops run on it', async () => {
  const what = 'the init({ gpu }) child';
  const r = lastJsonLine<{ sleeps?: boolean; value?: number[]; noAdapter?: string }>(await runNode([resolve('test/init-gpu-child.mjs')], { what }), what);
  assert.is(r.noAdapter, undefined, `the child found no adapter: ${r.noAdapter}`);
  assert.is(r.sleeps, true);
  assert.equal(r.value, [2, 4, 6]);
});

s.run();
