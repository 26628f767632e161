// `npm test`'s runner (scripts/test.mjs) streams the suite's output as it comes (issue 13,
// item 12) instead of holding it until the end, and still ends with "N passed, N failed".
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const s = suite('runner');

s('each line reaches the terminal when it is printed; the summary line comes last', async () => {
  // A runner that ignored HYPERTAPE_TEST_BUNDLE would run the real suite, and this test in it again.
  if (process.env.HYPERTAPE_RUNNER_NESTED) return;
  const dir = mkdtempSync(join(tmpdir(), 'hypertape-runner-'));
  // A stand-in for the bundled suite: one suite line, a pause, then uvu's totals.
  const fake = join(dir, 'fake-suite.mjs');
  writeFileSync(fake, [
    "process.stdout.write(' first  • •   (2 / 2)\\n');",
    'await new Promise((r) => setTimeout(r, 1500));',
    "process.stdout.write('\\n  Total:     3\\n  Passed:    2\\n');",
    'process.exitCode = 1;',
  ].join('\n'));
  const t0 = Date.now();
  let firstAt = -1;
  let out = '';
  const code = await new Promise<number | null>((done) => {
    const child = spawn(process.execPath, [resolve('scripts/test.mjs')], {
      env: { ...process.env, HYPERTAPE_TEST_BUNDLE: fake, HYPERTAPE_RUNNER_NESTED: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (d) => {
      out += d;
      if (firstAt < 0 && out.includes('first')) firstAt = Date.now() - t0;
    });
    child.on('close', done);
  });
  const endAt = Date.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  assert.ok(firstAt >= 0, `the suite line never arrived:\n${out}`);
  assert.ok(endAt - firstAt >= 1000, `the suite line came ${endAt - firstAt} ms before the end: buffered, not streamed`);
  assert.match(out.trim().split('\n').pop()!, /^2 passed, 1 failed$/);
  assert.is(code, 1);
});

s.run();
