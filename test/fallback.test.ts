// Part of the suite on the OpenGL ES compatibility fallback (and, for comparison, on the default
// backend): test/fallback-child.mjs runs in a fresh `node` process with HYPERTAPE_BACKEND set,
// checks a few kernels of each family, every matmul variant and a gradient against float64 values,
// destroys its device to check that the next operation throws, and exits by itself.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { matmulVariants } from '../src/ops/kernels/matmul.js';
import { runNode, lastJsonLine } from './child.js';

const s = suite('fallback');

interface ChildReport {
  adapter: { description: string; backend: string; featureLevel: string; maxWorkgroupInvocations: number };
  checks: { name: string; error: number; tol: number }[];
  lost: { threw: boolean; message?: string };
}

/** Runs the child script with `backend` (null: the default choice) and parses its JSON line. */
async function runChild(backend: string | null, timeoutMs = 180_000): Promise<ChildReport> {
  const script = resolve('test/fallback-child.mjs');
  if (!existsSync(resolve('dist/node.js'))) throw new Error('dist/node.js is missing: run `node scripts/build.mjs` (npm test does)');
  const env = { ...process.env };
  if (backend) env.HYPERTAPE_BACKEND = backend;
  else delete env.HYPERTAPE_BACKEND;
  // The child must exit by itself: an engine that keeps Node alive ends as a timeout.
  const what = `the ${backend ?? 'default'} child`;
  return lastJsonLine<ChildReport>(await runNode([script], { env, timeoutMs, what }), what);
}

function assertReport(r: ChildReport): void {
  // 6 elementwise and reduction checks, 6 matmuls per kernel variant, 1 gradient.
  const expected = 6 + 6 * matmulVariants().length + 1;
  assert.is(r.checks.length, expected, `${r.checks.length} checks ran, expected ${expected}`);
  for (const c of r.checks) {
    assert.ok(c.error <= c.tol, `${c.name}: relative error ${c.error} > ${c.tol} on ${r.adapter.description}`);
  }
  assert.ok(r.checks.some((c) => c.name.startsWith('gradient')), 'the gradient check did not run');
  assert.ok(r.lost.threw, 'an op on a destroyed device did not throw');
  assert.match(r.lost.message ?? '', /lost/);
}

s('kernels, both matmul variants and a gradient on the OpenGL ES compatibility fallback', async () => {
  const r = await runChild('opengles');
  assert.is(r.adapter.backend, 'opengles');
  assert.is(r.adapter.featureLevel, 'compatibility');
  assertReport(r);
});

s('the same checks on the default backend, in a fresh process that exits by itself', async () => {
  const r = await runChild(null);
  assert.ok(r.adapter.description.length > 0);
  assertReport(r);
});

s.run();
