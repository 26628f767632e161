// Builds the library for Node and the browser, the CLI and benchmarks, and (with --tests) the
// test bundle. WGSL files are bundled as text.
import * as esbuild from 'esbuild';
import { readdirSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const tests = process.argv.includes('--tests');
const common = { bundle: true, format: 'esm', loader: { '.wgsl': 'text' }, sourcemap: 'linked', logLevel: 'warning', target: 'es2022' };
const nodeCommon = { ...common, platform: 'node', packages: 'external' };

const builds = [
  esbuild.build({ ...nodeCommon, entryPoints: entry(), outdir: 'dist' }),
  esbuild.build({ ...common, platform: 'browser', entryPoints: { browser: 'src/browser.ts' }, outdir: 'dist' }),
];

function entry() {
  const e = { node: 'src/node.ts' };
  if (existsSync('src/cli.ts')) e.cli = 'src/cli.ts';
  if (existsSync('scripts/bench.ts')) e.bench = 'scripts/bench.ts';
  return e;
}

if (tests) {
  // One bundle holding every test file, so the suite shares one engine and one GPU device.
  const files = readdirSync('test').filter((f) => f.endsWith('.test.ts')).sort();
  mkdirSync('.test-dist', { recursive: true });
  const filter = process.env.TEST_FILTER ? new RegExp(process.env.TEST_FILTER) : null;
  const chosen = filter ? files.filter((f) => filter.test(f)) : files;
  writeFileSync('.test-dist/entry.ts', chosen.map((f) => `import '../test/${f}';`).join('\n') + '\n');
  builds.push(esbuild.build({ ...nodeCommon, entryPoints: { all: '.test-dist/entry.ts' }, outdir: '.test-dist' }));
}

await Promise.all(builds);
