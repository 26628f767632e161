// Runs the bundled Node suite (.test-dist/all.js, built by `node scripts/build.mjs --tests`;
// HYPERTAPE_TEST_BUNDLE names another file) and ends with one summary line: "N passed, N failed".
// The suite's output is passed through as it comes, so each suite's line shows when it finishes.
import { spawn } from 'node:child_process';

const bundle = process.env.HYPERTAPE_TEST_BUNDLE || '.test-dist/all.js';
const child = spawn(process.execPath, [bundle], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
let output = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
const status = await new Promise((done) => child.on('close', (code, signal) => done(code ?? (signal ? 1 : 0))));
const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0);
const failed = total - passed || (status !== 0 ? 1 : 0);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(status === 0 && failed === 0 && total > 0 ? 0 : 1);
