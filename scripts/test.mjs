// Runs the bundled Node suite (.test-dist/all.js, built by `node scripts/build.mjs --tests`)
// and ends with one summary line: "N passed, N failed".
import { spawnSync } from 'node:child_process';

const run = spawnSync(process.execPath, ['.test-dist/all.js'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: process.env });
process.stdout.write(run.stdout ?? '');
const total = Number(/Total:\s+(\d+)/.exec(run.stdout ?? '')?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(run.stdout ?? '')?.[1] ?? 0);
const failed = total - passed || (run.status !== 0 ? 1 : 0);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(run.status === 0 && failed === 0 && total > 0 ? 0 : 1);
