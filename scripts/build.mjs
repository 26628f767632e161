// Builds the library for Node and the browser, the CLI and benchmarks, the type declarations of
// the public entries (dist/types/, by tsc), and (with --tests) the test bundle. WGSL files are
// bundled as text.
import { readdirSync, mkdirSync, writeFileSync, existsSync, copyFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

// The build needs the devDependencies (esbuild, typescript): npm installs them before `prepare`
// for a git URL, but not for a linked local folder, which must have had `npm install` run in it.
const esbuild = await import('esbuild').catch(() => {
  console.error(`hypertape: cannot build in ${process.cwd()}: esbuild is not installed there. Run 'npm install' in that folder first (it builds dist/), then install it again.`);
  process.exit(1);
});
const tests = process.argv.includes('--tests');
const common = { bundle: true, format: 'esm', loader: { '.wgsl': 'text' }, sourcemap: 'linked', logLevel: 'warning', target: 'es2022' };
const nodeCommon = { ...common, platform: 'node', packages: 'external' };

const builds = [
  esbuild.build({ ...nodeCommon, entryPoints: entry(), outdir: 'dist' }),
  esbuild.build({ ...common, platform: 'browser', entryPoints: { browser: 'src/browser.ts' }, outdir: 'dist' }),
];
// The browser demo: a self-contained static folder (page, styles, one script), served by
// `npm run demo` and deployable as is.
builds.push(declarations());
if (existsSync('examples/browser/demo.ts')) builds.push(browserPage('examples/browser', 'demo', 'dist/demo'));

function entry() {
  const e = { node: 'src/node.ts' };
  if (existsSync('src/cli.ts')) e.cli = 'src/cli.ts';
  if (existsSync('scripts/bench.ts')) e.bench = 'scripts/bench.ts';
  if (existsSync('examples/quickstart.ts')) e.quickstart = 'examples/quickstart.ts';
  return e;
}

// Test helpers import the library through src/node.ts; in a browser bundle they get src/browser.ts
// (same API, `init` through navigator.gpu), so the same helper code runs in both places.
const nodeEntryToBrowser = {
  name: 'node-entry-to-browser',
  setup(build) {
    const nodeEntry = resolve('src/node.js');
    build.onResolve({ filter: /\/node\.js$/ }, (args) =>
      resolve(args.resolveDir, args.path) === nodeEntry ? { path: resolve('src/browser.ts') } : undefined);
  },
};

if (tests) {
  // One bundle holding every test file, so the suite shares one engine and one GPU device.
  const files = readdirSync('test').filter((f) => f.endsWith('.test.ts')).sort();
  mkdirSync('.test-dist', { recursive: true });
  const filter = process.env.TEST_FILTER ? new RegExp(process.env.TEST_FILTER) : null;
  const chosen = filter ? files.filter((f) => filter.test(f)) : files;
  writeFileSync('.test-dist/entry.ts', chosen.map((f) => `import '../test/${f}';`).join('\n') + '\n');
  builds.push(esbuild.build({ ...nodeCommon, entryPoints: { all: '.test-dist/entry.ts' }, outdir: '.test-dist' }));
  // The in-browser check page (test/browser/), driven by test/browser.test.ts.
  builds.push(browserPage('test/browser', 'page', '.test-dist/browser', [nodeEntryToBrowser]));
}

/**
 * Emits .d.ts files for src/node.ts and src/browser.ts (and what they import) into dist/types/
 * with tsc (tsconfig.types.json), which package.json's `exports` point at.
 */
function declarations() {
  rmSync('dist/types', { recursive: true, force: true });
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  return new Promise((done, fail) => {
    execFile(process.execPath, [tsc, '-p', 'tsconfig.types.json'], (error, stdout, stderr) => {
      if (!error) return done();
      process.stderr.write(stdout + stderr);
      fail(new Error(`tsc -p tsconfig.types.json failed (exit ${error.code}): the declarations in dist/types/ were not written.`));
    });
  });
}

/** Bundles `dir/<name>.ts` for the browser into `outdir` and copies the folder's HTML and CSS. */
function browserPage(dir, name, outdir, plugins = []) {
  mkdirSync(outdir, { recursive: true });
  for (const f of readdirSync(dir)) if (/\.(html|css)$/.test(f)) copyFileSync(join(dir, f), join(outdir, f));
  return esbuild.build({ ...common, platform: 'browser', entryPoints: { [name]: join(dir, `${name}.ts`) }, outdir, plugins });
}

await Promise.all(builds);
