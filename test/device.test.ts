// A tensor of a replaced or lost device (issue 13, item 7): used, it throws an error that says
// so; disposed, nothing happens; and init() gives a working device again in the same process.
// The same for a pending (lazy) tensor made before the device went (issue 12).
// Each scenario runs in its own child process (test/device-child.mjs): the defect killed Node.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolve } from 'node:path';
import { runNode, lastJsonLine } from './child.js';

const s = suite('device');

interface Step {
  name: string;
  ok: boolean;
  value?: unknown;
  message?: string;
}

async function runChild(scenario: string): Promise<Record<string, Step>> {
  const what = `the '${scenario}' child`;
  const report = lastJsonLine<{ steps: Step[] }>(await runNode([resolve('test/device-child.mjs'), scenario], { what }), what);
  return Object.fromEntries(report.steps.map((st) => [st.name, st]));
}

for (const scenario of ['replaced', 'lost'] as const) {
  s(`a tensor of a ${scenario} device: clear error on use, no-op on dispose, the new device works`, async () => {
    const r = await runChild(scenario);
    if (scenario === 'lost') {
      assert.is(r['op on the lost device']!.ok, false);
      assert.match(r['op on the lost device']!.message!, /device was lost/);
    }
    assert.ok(r['dispose old']!.ok, 'disposing a tensor of the old device is a no-op');
    assert.equal(r['new op after dispose']!.value, [2, 3]);
    for (const use of ['use old view', 'read old view', 'use old pending', 'read old pending']) {
      assert.is(r[use]!.ok, false, `${use} must throw`);
      assert.match(r[use]!.message!, scenario === 'lost' ? /cannot be used: its GPU device was lost/ : /cannot be used: its GPU device was replaced by a later init\(\)/);
      assert.match(r[use]!.message!, /make it again after init\(\)/);
    }
    assert.ok(r['dispose old view']!.ok);
    assert.is(r['old disposed after']!.value, true);
    assert.is(r['new work']!.value, 200);
    assert.is(r['memory']!.value, 1, 'only the new device\'s accumulator is live');
  });
}

s.run();
