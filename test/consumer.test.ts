// The package as a user gets it: `npm pack` (which builds through the `prepare` script), the
// tarball installed offline into a temporary project that depends on nothing else of ours, a
// strict TypeScript file using the main API type-checked against the shipped declarations (Node
// and bundler resolution) and run, its numbers held to float64 closed forms, and the command run
// from there. The runtime dependencies come from npm's cache (filled by `npm ci`), pinned by a
// lock file derived from ours, so no registry is needed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { assertClose } from './helpers.js';

const s = suite('consumer of the packed package');

const root = resolve('.');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(dirname(createRequire(join(root, 'package.json')).resolve('typescript/package.json')), 'bin', 'tsc');

interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command; on failure throws with the command line, exit code and its output. */
function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  // npm's per-script variables of the enclosing `npm test` must not leak into the consumer's npm.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(package|lifecycle|config_(prefix|global|local_prefix))/i.test(k)));
  return new Promise((done, fail) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20, timeout: 240_000 }, (error, stdout, stderr) => {
      const hint = /ENOTCACHED/.test(stderr) ? "\nnpm's cache lacks a dependency of the package: run 'npm ci' in the repository first (it fills the cache)." : '';
      if (error) fail(new Error(`'${cmd} ${args.join(' ')}' in ${cwd} failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}${hint}`));
      else done({ stdout, stderr });
    });
  });
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  [k: string]: unknown;
}

/**
 * The consumer's package-lock.json: hypertape from the tarball, and exactly the runtime part of
 * our own lock (every entry not marked dev), at the same places in node_modules.
 */
function consumerLock(name: string, tarball: string, integrity: string): object {
  const ours = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const packages: Record<string, LockEntry> = {
    '': { name, dependencies: { hypertape: `file:${tarball}` } },
    'node_modules/hypertape': {
      version: pkg.version as string,
      resolved: `file:${tarball}`,
      integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(ours.packages)) {
    if (path === '' || entry.dev || entry.link) continue;
    const { devOptional, ...rest } = entry;
    packages[path] = devOptional ? { ...rest, optional: true } : rest;
  }
  return { name, lockfileVersion: 3, requires: true, packages };
}

s('installs from the tarball, type-checks under tsc --strict, runs, and has the command', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypertape-consumer-'));
  try {
    const packed = JSON.parse((await run(npm, ['pack', '--json', '--pack-destination', dir], root)).stdout.replace(/^[^[]*/, '')) as { filename: string; integrity: string; files: { path: string }[] }[];
    const { filename, integrity, files } = packed[0]!;
    const shipped = files.map((f) => f.path);
    for (const f of ['dist/node.js', 'dist/browser.js', 'dist/cli.js', 'dist/types/node.d.ts', 'dist/types/browser.d.ts', 'bin/hypertape.js', 'LICENSE']) {
      assert.ok(shipped.includes(f), `${f} is in the tarball (it has ${shipped.join(', ')})`);
    }
    assert.not.ok(shipped.some((f) => f.startsWith('src/') || f.startsWith('test/') || /bench|demo|quickstart/.test(f)), `no sources, tests, benchmarks or demo: ${shipped.join(', ')}`);

    const project = join(dir, 'project');
    cpSync(join(root, 'test/consumer'), project, { recursive: true });
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    pkg.dependencies = { hypertape: `file:../${filename}` };
    writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify(consumerLock(pkg.name, `../${filename}`, integrity), null, 2) + '\n');
    await run(npm, ['ci', '--offline', '--no-audit', '--no-fund'], project);

    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], project); // Node resolution: the "node" condition's types
    await run(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], project); // a bundler's: the browser types
    const { stdout } = await run(process.execPath, ['out/main.js'], project);
    const got = JSON.parse(stdout.trim().split('\n').pop()!) as {
      grad: number[]; jvp: { out: number[]; tangent: number[] }; hvp: number[];
      hypergradients: Record<string, { value: number; grad: number[]; dispatches: number }>;
    };
    assertClose(got.grad, [3, 12, 27], {}, 'grad of sum(x^3)');
    assertClose(got.jvp.out, [1, 4, 9], {}, 'jvp primal output');
    assertClose(got.jvp.tangent, [2, 4, 6], {}, 'jvp tangent');
    assertClose(got.hvp, [6, 0, 36], {}, 'hvp');
    // w_T = (1 - c^T) lambda with c = 1 - gamma; d w_T / d lambda through the last K steps: 1 - c^K.
    const T = 10, c = 0.5, lambda = [3, -1];
    const wT = lambda.map((l) => (1 - c ** T) * l);
    const f = 0.5 * wT.reduce((a, w) => a + (w - 1) ** 2, 0);
    const h = (K: number) => wT.map((w) => (w - 1) * (1 - c ** K));
    assertClose([got.hypergradients.rmd!.value], [f], {}, 'rmd value');
    assertClose(got.hypergradients.rmd!.grad, h(T), {}, 'rmd hypergradient');
    assertClose([got.hypergradients.krmd!.value], [f], {}, 'krmd value');
    assertClose(got.hypergradients.krmd!.grad, h(2), {}, 'krmd (K = 2) hypergradient');
    assert.ok(got.hypergradients.krmd!.dispatches > 0, 'stats are reported');

    const help = await run(npm, ['exec', '--offline', '--', 'hypertape', '--help'], project);
    assert.match(help.stdout, 'Usage: hypertape <experiment>');
    const version = await run(join(project, 'node_modules/.bin/hypertape'), ['--version'], project);
    assert.is(version.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

s.run();
