// The reporting shared by every experiment: atomic files, figures rendered by vega(-lite),
// Markdown tables, option parsing and help, and progress output.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactJson, contourPlot, formatNumber, lineChart, markdownTable, renderSvg, writeFileAtomic } from '../src/experiments/report.js';
import { defineExperiment, experimentHelp, flagName, parseOptions, UsageError } from '../src/experiments/registry.js';
import { createConsole, formatSeconds } from '../src/experiments/progress.js';
import { defaultOutDir } from '../src/experiments/run.js';

const s = suite('report');

s('writes files atomically, leaving no temporary file behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypertape-report-'));
  try {
    const path = join(dir, 'sub', 'results.json');
    writeFileAtomic(path, '{"a": 1}\n');
    writeFileAtomic(path, '{"a": 2}\n');
    assert.is(readFileSync(path, 'utf8'), '{"a": 2}\n');
    assert.equal(readdirSync(join(dir, 'sub')), ['results.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

s('writes JSON with flat arrays on one line and the same content', () => {
  const value = { a: [1, -2.5e-7, 3], b: [[0, 1], [2, 3]], c: ['x, 1', 'y]"', null, true], d: { e: [] }, s: 'keep [1,2] as is' };
  const text = compactJson(value);
  assert.equal(JSON.parse(text), value);
  assert.ok(text.includes('"a": [1, -2.5e-7, 3]'));
  assert.ok(text.includes('[0, 1],'));
  assert.ok(text.includes('"keep [1,2] as is"'));
  assert.ok(text.includes(String.raw`"c": ["x, 1", "y]\"", null, true]`));
});

s('renders a vega-lite line chart to SVG, one line per series, log axis without non-positive rows', async () => {
  const rows = [1, 2, 3, 4].flatMap((K) => [
    { K, v: 0.5 ** K, series: 'a' },
    { K, v: K === 4 ? 0 : 2 * 0.5 ** K, series: 'b' },
  ]);
  const svg = await renderSvg({ name: 'x', title: 't', caption: '', grammar: 'vega-lite', spec: lineChart({ title: 'Decay of things', rows, x: { field: 'K', title: 'K' }, y: { field: 'v', title: 'v', log: true }, series: { field: 'series', title: 's' } }) });
  assert.ok(svg.startsWith('<svg'));
  assert.ok(svg.includes('Decay of things'));
  // Two series: vega-lite draws each line in a group of its own.
  assert.is((svg.match(/class="mark-line/g) ?? []).length, 2);
  assert.not.match(svg, /NaN|Infinity/, 'the zero was left off the log axis');
});

s('renders filled contours of a grid with trajectories and a marker (vega isocontour)', async () => {
  const n = 20;
  const xs = Array.from({ length: n }, (_, i) => -1 + ((i + 0.5) * 2) / n);
  const values = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) values[j * n + i] = xs[i]! ** 2 + 2 * xs[j]! ** 2;
  const svg = await renderSvg({
    name: 'c', title: 'c', caption: '', grammar: 'vega',
    spec: contourPlot({
      title: 'Bowl', grid: { xs, ys: xs, values }, thresholds: [0.25, 0.5, 1, 2], valueTitle: 'v', xTitle: 'x', yTitle: 'y',
      paths: [0, 1, 2].map((k) => ({ series: 'run', x: 0.8 - 0.3 * k, y: 0.8 - 0.3 * k, order: k })),
      markers: [{ label: 'optimum', x: 0, y: 0 }],
    }),
  });
  const contours = svg.match(/class="mark-path[^"]*"[^]*?<\/g>/)?.[0] ?? '';
  assert.is((contours.match(/<path /g) ?? []).length, 4, 'one filled region per threshold');
  assert.ok(svg.includes('mark-line') && svg.includes('optimum'));
});

s('formats Markdown tables: numbers right-aligned, pipes in cells escaped', () => {
  const t = markdownTable(['K', '||h||', 'note'], [[1, 0.000012345, 'a|b'], [10, 123.456, 'c']]);
  assert.is(t, [
    '| K | \\|\\|h\\|\\| | note |',
    '| ---: | ---: | --- |',
    '| 1 | 1.234e-5 | a\\|b |',
    '| 10 | 123.5 | c |',
  ].join('\n'));
  assert.is(formatNumber(0), '0');
  assert.is(formatNumber(0.5), '0.5');
  assert.is(formatNumber(-2.5e7), '-2.500e+7');
});

const demo = defineExperiment({
  name: 'demo',
  summary: 'a test experiment',
  description: 'Used by the tests.',
  options: {
    steps: { type: 'int', min: 1, default: 100, quick: 10, help: 'steps' },
    K: { type: 'ints', min: 1, default: [1, 5], help: 'depths' },
    rate: { type: 'number', min: 0, max: 1, default: 0.1, help: 'a rate' },
    start: { type: 'numbers', length: 2, default: [0, 0], help: 'a point' },
    mode: { type: 'string', choices: ['a', 'b'], default: 'a', help: 'a mode' },
    plot: { type: 'boolean', default: true, help: 'draw' },
  },
  run: async () => ({ results: {}, summary: '', figures: [] }),
});

s('parses options: defaults, --quick values, both flag forms, negated booleans', () => {
  const d = parseOptions(demo, []);
  assert.equal(d.options, { steps: 100, K: [1, 5], rate: 0.1, start: [0, 0], mode: 'a', plot: true });
  assert.equal(d.common, { out: 'results/<experiment>/<timestamp>', seed: 0, quick: false, backend: 'auto', verbose: false, help: false });
  const q = parseOptions(demo, ['--quick', '--K=2,3', '--start', '-1,0.5', '--no-plot', '--mode', 'b', '--seed', '7', '--k', '4']);
  assert.equal(q.options, { steps: 10, K: [4], rate: 0.1, start: [-1, 0.5], mode: 'b', plot: false });
  assert.is(q.common.seed, 7);
  assert.is(q.common.quick, true);
  assert.is(parseOptions(demo, ['--quick', '--steps', '3']).options.steps, 3);
  assert.is(flagName('hyperIterations'), 'hyper-iterations');
  assert.is(flagName('K'), 'K');
});

s('rejects bad options with a message naming the option and what it allows', () => {
  const fails = (argv: string[], pattern: RegExp) => {
    try {
      parseOptions(demo, argv);
    } catch (e) {
      assert.instance(e, UsageError);
      assert.match((e as Error).message, pattern);
      return;
    }
    assert.unreachable(`${argv.join(' ')} was accepted`);
  };
  fails(['--stepz', '3'], /unknown option --stepz for 'demo'; allowed: .*--steps/);
  fails(['--steps', '2.5'], /--steps expects an integer >= 1; got '2.5'/);
  fails(['--steps'], /--steps needs a value: an integer >= 1/);
  fails(['--rate', '2'], /--rate expects a number in \[0, 1\]; got '2'/);
  fails(['--K', '1,x'], /--K expects a comma-separated list of integers >= 1; got '1,x'/);
  fails(['--start', '1'], /--start expects 2 numbers, comma-separated; got '1'/);
  fails(['--mode', 'c'], /--mode expects one of a, b; got 'c'/);
  fails(['--backend', 'metal'], /--backend expects one of auto, vulkan, opengles; got 'metal'/);
  fails(['steps'], /unexpected argument 'steps'/);
});

s('help lists every option with its default and --quick value', () => {
  const help = experimentHelp(demo);
  assert.match(help, /Usage: hypertape demo \[options\]/);
  assert.match(help, /--steps <n> +steps \(default 100; --quick: 10\)/);
  for (const flag of ['--K', '--rate', '--start', '--mode <a\\|b>', '--plot', '--out', '--seed', '--quick', '--backend']) assert.match(help, new RegExp(flag));
});

function capture(tty: boolean) {
  let text = '';
  const stream = { isTTY: tty, columns: 100, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

s('progress: sparse plain lines when not a terminal', () => {
  const out = capture(false);
  const con = createConsole({ stream: out.stream, plainIntervalS: 0 });
  const p = con.progress('work', 100);
  for (let i = 0; i < 100; i++) p.tick(1, `step ${i}`);
  p.done();
  const lines = out.text().trim().split('\n');
  assert.is(lines[0], 'work: 0/100');
  assert.is(lines.length, 11, 'a line at the start and at each tenth');
  assert.match(lines[10]!, /^work: 100\/100 /);
  assert.not.match(out.text(), /\r|\x1b/);
});

s('progress of a resumed run: the units done before are counted from the start, and the next line comes at the next tenth', () => {
  const out = capture(false);
  const con = createConsole({ stream: out.stream, plainIntervalS: 0 });
  const p = con.progress('work', 100, 45);
  for (let i = 0; i < 5; i++) p.tick(1);
  const lines = out.text().trim().split('\n');
  assert.equal(lines.length, 2, lines.join(' | '));
  assert.is(lines[0], 'work: 45/100');
  assert.match(lines[1]!, /^work: 50\/100 .* elapsed, .* left/);
});

s('progress: a bar redrawn in place on a terminal, log lines above it', () => {
  const out = capture(true);
  const con = createConsole({ stream: out.stream });
  const p = con.progress('work', 4);
  p.tick(2);
  con.log('hello');
  p.done();
  const text = out.text();
  assert.match(text, /\r\x1b\[Khello\n\r?.*work \[/);
  assert.match(text, /work \[#+\] 4\/4 .*\n$/);
});

s('formats durations without a 60 in the seconds place', () => {
  assert.equal([5.2, 59.6, 119.6, 3599.6, 3725].map(formatSeconds), ['5s', '1m00s', '2m00s', '1h00m', '1h02m']);
});

s('names default output folders by experiment and UTC time', () => {
  assert.is(defaultOutDir('toy', new Date('2026-01-02T03:04:05.678Z')), 'results/toy/2026-01-02T03-04-05Z');
});

s.run();
