#!/usr/bin/env node
// Launcher for the `hypertape` command; the command itself is src/cli.ts, bundled to dist/cli.js.
// On a terminal (or with HYPERTAPE_FILTER_DAWN=1) the command runs in a child process whose
// stderr passes through bin/dawn-stderr.js, which keeps Dawn's start-up warnings off the
// terminal; --verbose or DEBUG=hypertape shows them. Ctrl-C reaches the child directly (same
// process group); SIGTERM and SIGHUP sent to this process are passed on.
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';
import { createDawnFilter } from './dawn-stderr.js';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("hypertape: dist/cli.js is missing; run 'npm run build' first (or 'npm run toy', which builds).\n");
  process.exit(1);
}
const args = process.argv.slice(2);
const verbose = args.includes('--verbose') || /(^|[\s,])(hypertape|\*)([\s,:]|$)/.test(process.env.DEBUG ?? '');
const filter = !verbose && process.env.HYPERTAPE_CHILD !== '1' &&
  (process.env.HYPERTAPE_FILTER_DAWN === '1' || (process.stderr.isTTY && process.env.HYPERTAPE_FILTER_DAWN !== '0'));

if (!filter) {
  await import(cli.href);
} else {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, HYPERTAPE_CHILD: '1' },
  });
  const f = createDawnFilter((text) => process.stderr.write(text));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => f.push(chunk));
  process.on('SIGINT', () => {}); // the terminal sends it to the child too
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('close', (code, signal) => {
    f.end();
    // A child ended by a signal exits as a shell reports it: 128 + the signal's number.
    process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
  });
}
