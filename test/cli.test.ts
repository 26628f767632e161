// The `hypertape` command's conventions: --version, --help with the exit statuses, and exit
// status 1 with a message on stderr for bad input (no GPU is started for any of these).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseOptions, UsageError } from '../src/experiments/registry.js';
import { toy } from '../src/experiments/toy.js';

const s = suite('command-line conventions');

function hypertape(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/hypertape.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

s('--version prints the package version; --help documents the exit statuses', () => {
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  for (const flag of ['--version', '-v']) {
    const r = hypertape(flag);
    assert.is(r.status, 0);
    assert.is(r.stdout.trim(), version);
  }
  const help = hypertape('--help');
  assert.is(help.status, 0);
  assert.match(help.stdout, /Exit status: 0 done; 1 bad input/);
  assert.match(help.stdout, /130 interrupted/);
});

s('bad input exits with status 1 and says what was wrong on stderr', () => {
  const cases: [string[], RegExp][] = [
    [['nosuch'], /unknown experiment 'nosuch'; available: toy/],
    [['toy', '--stepz', '3'], /unknown option --stepz for 'toy'/],
    [['toy', '--T'], /--T needs a value: an integer/],
    [['toy', 'extra'], /unexpected argument 'extra'/],
  ];
  for (const [args, pattern] of cases) {
    const r = hypertape(...args);
    assert.is(r.status, 1, `exit status of hypertape ${args.join(' ')}`);
    assert.match(r.stderr, pattern);
    assert.is(r.stdout, '');
  }
});

s('parseArgs tokens: option-like values, the -- terminator and short options are refused by name', () => {
  const fails = (argv: string[], pattern: RegExp) => {
    assert.throws(() => parseOptions(toy, argv), (e: unknown) => e instanceof UsageError && pattern.test((e as Error).message), argv.join(' '));
  };
  fails(['--out', '--quick'], /--out needs a value/);
  fails(['--', '--quick'], /unknown option -- for 'toy'/);
  fails(['-q'], /unexpected argument '-q'/);
  fails(['--QUICK=maybe'], /--quick expects true or false/);
  const p = parseOptions(toy, ['--Seed=3', '--OUT', 'Some/Dir', '--quick=false', '--no-quick']);
  assert.is(p.common.seed, 3);
  assert.is(p.common.out, 'Some/Dir');
  assert.is(p.common.quick, false);
  assert.equal(p.given, ['seed', 'out', 'quick']);
});

s.run();
