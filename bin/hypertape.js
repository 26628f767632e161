#!/usr/bin/env node
// Launcher for the `hypertape` command; the command itself is src/cli.ts, bundled to dist/cli.js.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("hypertape: dist/cli.js is missing; run 'npm run build' first (or 'npm run toy', which builds).\n");
  process.exit(1);
}
await import(cli.href);
