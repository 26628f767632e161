// The reproduction report (`hypertape report`, docs/REPRODUCTION.md): the committed document is
// exactly what the command writes from the committed runs (so it cannot go stale), every number
// of ours in it is a cell whose inputs, re-read from the results.json files, give its value by its
// formula, the document follows its files when they change (and uses the fields newer files
// have: a stable baseline, F1 history, the Omniglot splits), and the command's errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildReproduction, defaultRunFolders, DEFAULT_REPORT_OUT, PAPER_SOURCES } from '../src/experiments/reproduction.js';
import { computeFormula, formatValue, logLinearFit, resolvePath, resolveSource, type CellSources } from '../src/experiments/reproduction-cells.js';
import { TABLE2 } from '../src/experiments/paper-numbers.js';
import { hypertape } from './experiment-helpers.js';
import { rejectsWith } from './rejects.js';

const s = suite('reproduction');

s('docs/REPRODUCTION.md is exactly what `hypertape report` writes from the committed runs', () => {
  const folders = defaultRunFolders();
  assert.equal(folders.map((f) => basename(f).replace(/-paper$/, '')), ['toy', 'hypercleaning', 'task-interaction', 'omniglot']);
  const built = buildReproduction(folders, DEFAULT_REPORT_OUT);
  const committed = readFileSync(DEFAULT_REPORT_OUT, 'utf8');
  assert.ok(built.markdown === committed, 'docs/REPRODUCTION.md is stale: run `npm run build && npx hypertape report` and commit the result');
});

s('every number of ours in the document: re-read from its results.json, recomputed by its formula, written where the document says', () => {
  const built = buildReproduction(defaultRunFolders(), DEFAULT_REPORT_OUT);
  // The files again, parsed afresh: the cells must agree with what is on disk, not with what the builder held.
  const fresh: CellSources = {
    runs: Object.fromEntries(Object.entries(built.folders).map(([e, dir]) => [e, JSON.parse(readFileSync(join(dir!, 'results.json'), 'utf8'))])),
    paper: PAPER_SOURCES,
  };
  assert.ok(built.cells.length > 150, `${built.cells.length} cells`);
  let at = 0;
  for (const [i, c] of built.cells.entries()) {
    const value = computeFormula(c.formula, c.inputs.map((src) => resolveSource(fresh, src)));
    const where = `cell ${i} (${c.formula} of ${c.inputs.map((x) => ('run' in x ? `${x.run}:${x.path}` : `paper ${x.paper}:${x.path}`)).join(', ')})`;
    assert.ok(Object.is(value, c.value) || (Number.isNaN(value) && Number.isNaN(c.value)), `${where}: ${c.value} in the document, ${value} from the files`);
    assert.is(c.text, formatValue(value, c.format), where);
    // Cells appear in the document in the order they were made.
    const found = built.markdown.indexOf(c.text, at);
    assert.ok(found >= 0, `${where}: '${c.text}' not found after position ${at}`);
    at = found + c.text.length;
    // At least one input of every cell is ours (a cell of the paper's numbers alone would be typed in, not measured).
    assert.ok(c.inputs.some((x) => 'run' in x) || c.inputs.every((x) => 'paper' in x && c.formula === 'ratio'), `${where}: no input from a run`);
  }
  // Every figure of every run is in the document, linked relative to it.
  for (const dir of Object.values(built.folders)) {
    for (const f of readdirSync(dir!).filter((x) => x.endsWith('.svg'))) {
      assert.ok(built.markdown.includes(`(${dir!.replace(/^docs\//, '')}/${f})`), `${dir}/${f} is linked`);
    }
  }
});

/**
 * Copies committed runs to a temporary folder (results.json and the SVG files) and returns the
 * copies' folders: the quick profiles, which are complete (every K, every figure), so that the
 * edits below have every row to change whatever stage the committed paper-scale runs are at.
 */
function copyRuns(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of defaultRunFolders().map((d) => d.replace(/-paper$/, ''))) {
    const to = join(root, 'figures', basename(dir));
    cpSync(dir, to, { recursive: true, filter: (src) => !src.endsWith('state.json') });
    const e = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).experiment as string;
    out[e] = to;
  }
  return out;
}

function edit(dir: string, change: (j: any) => void): void {
  const file = join(dir, 'results.json');
  const j = JSON.parse(readFileSync(file, 'utf8'));
  change(j);
  writeFileSync(file, JSON.stringify(j));
}

s('the document follows its files: a changed number, a missing adapter, and the fields of newer files', () => {
  const root = mkdtempSync(join(tmpdir(), 'hypertape-repro-'));
  try {
    const runs = copyRuns(root);
    const out = join(root, 'REPRODUCTION.md');
    edit(runs.hypercleaning!, (j) => {
      j.table.find((r: any) => r.K === 1).testAcc = 0.1234;
      j.references.baselineStable = { gamma: 0.5, halvings: 1, testAcc: 0.8, valAcc: 0.81, valLoss: 0.6 };
      j.flagHistory = [{ K: 1, tau: [0, 10, 20], f1: [0, 0.25, 0.5], precision: [1, 1, 1], recall: [0, 0.2, 0.33] }];
    });
    edit(runs.toy!, (j) => { delete j.adapter; });
    edit(runs['task-interaction']!, (j) => { j.settings.resume = 'results/ti'; });
    edit(runs.omniglot!, (j) => {
      j.problem.splits = {
        metaTraining: { file: 'images_background.zip', alphabets: 30, characters: 964, classes: 3856, droppedAlphabets: [] },
        metaTest: { file: 'images_evaluation.zip', alphabets: 20, characters: 659, classes: 2636, droppedAlphabets: [] },
      };
    });
    const md = buildReproduction(Object.values(runs), out).markdown;
    const k1 = TABLE2.rows[0]!;
    assert.ok(md.includes(`| 1 | ${k1.testAcc.toFixed(2)} | 12.34 | ${(12.34 - k1.testAcc).toFixed(2)} |`), 'the changed accuracy and its difference in Table 2');
    assert.match(md, /\| \[toy\]\(figures\/toy\/\) \| `[^`]*` \| not recorded \| not recorded \|/);
    assert.ok(md.includes('| all weights 1 (no cleaning), largest stable step | γ = 0.5 | 80.00 | 81.00 | 0.600 |'), 'the stable baseline row');
    const fullTest = JSON.parse(readFileSync(join(runs.hypercleaning!, 'results.json'), 'utf8')).table.find((r: any) => r.K === 100).testAcc;
    assert.ok(md.includes(`Full RMD's classifier differs by ${formatValue(100 * (fullTest - 0.8), '+f2')} points of test accuracy from the same classifier trained without cleaning at the largest stable step`));
    assert.ok(md.includes('part of the first gap may be training length'), 'the caveat of a smaller stable step');
    assert.ok(md.includes('F1 went from 0.000 to 0.500'), 'the F1 history');
    assert.ok(md.includes('meta-training images_background.zip: 30 alphabets, 964 characters, 3856 classes with rotations'), 'the Omniglot splits');
    assert.ok(!md.includes('no stable no-cleaning baseline'));
    // A resumed run's time ratio is shown but decides nothing; the others still decide.
    assert.match(md, /\| truncation halves the time per hyper-iteration \| task interaction, cifar10: [^|]*\| [^|]*not decided: the run was resumed[^|]*\| not decided \|/);
    assert.match(md, /\| truncation halves the time per hyper-iteration \| Omniglot: [^|]*\| [^|]*\| (yes|\*\*no\*\*) \|/);
    // The committed document is not touched by a build elsewhere, and links are relative to the document built.
    assert.ok(md.includes('[figure5.svg](figures/hypercleaning/figure5.svg)'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

s('paths: fields, indices, key=value matches and [*]; a path that leads nowhere is an error naming it', async () => {
  const j = { table: [{ K: 1, a: 0.5, s: [1, 2] }, { K: 5, a: 0.25, s: [3] }], o: { x: { v: 1 }, y: { v: 2 } } };
  assert.is(resolvePath(j, 'table[K=5].a', 'x'), 0.25);
  assert.is(resolvePath(j, 'table[1].s[0]', 'x'), 3);
  assert.equal(resolvePath(j, 'table[*].s', 'x'), [1, 2, 3]);
  assert.equal(resolvePath(j, 'o.*.v', 'x'), [1, 2]);
  await rejectsWith(() => resolvePath(j, 'table[K=2].a', 'results.json of the toy run'), 'results.json of the toy run', 'table[K=2]', '0 elements match');
  await rejectsWith(() => resolvePath({ t: [{ K: 1 }, { K: 1 }] }, 't[K=1]', 'f'), '2 elements match, expected exactly one');
  await rejectsWith(() => resolvePath(j, 'table[K=1].b', 'f'), "table[K=1].b (of the path 'table[K=1].b'): no such field");
  await rejectsWith(() => resolveSource({ runs: { toy: j }, paper: {} }, { run: 'toy', path: 'o.x' }), "'o.x' holds", 'expected a number');
  await rejectsWith(() => resolveSource({ runs: {}, paper: {} }, { run: 'omniglot', path: 'a' }), 'results.json of the omniglot run is not loaded');
});

s('formulas: the log-linear fit recovers an exponential, formats write signs and digits as stated', () => {
  const K = [1, 2, 3, 4, 5, 6];
  const fit = logLinearFit(K, K.map((k) => 3 * 0.9 ** k));
  assert.ok(Math.abs(Math.exp(fit.slope) - 0.9) < 1e-12 && Math.abs(fit.r2 - 1) < 1e-12);
  // A noisy series: R² below 1, zeros left out of the fit.
  const noisy = logLinearFit([1, 2, 3, 4, 5], [1, 0.2, 0.5, 0.01, 0]);
  assert.is(noisy.points, 4);
  assert.ok(noisy.r2 < 0.95 && noisy.r2 > 0);
  assert.is(computeFormula('logRate', [K, K.map((k) => 0.5 ** k)]), 0.5);
  assert.is(computeFormula('increases', [[3, 2, 2, 4, 1, 5]]), 2);
  assert.is(computeFormula('meanLastQuarter', [[1, 2, 3, 4, 5, 6, 7, 8]]), 7.5);
  assert.throws(() => computeFormula('ratio', [[1, 2], 3]), /a list of 2 numbers, expected one number/);
  assert.is(formatValue(1.5, '+f2'), '+1.50');
  assert.is(formatValue(-0.001, 'f2'), '0.00');
  assert.is(formatValue(-0.25, '+f2'), '-0.25');
  assert.is(formatValue(0.000123, 's3'), '1.23e-4');
  assert.is(formatValue(NaN, 'f2'), 'n/a');
  assert.throws(() => formatValue(1, 'x2' as 'f2'), /unknown value format 'x2'/);
});

s('the command: --help, --out, and bad folders refused by name with exit status 1', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hypertape-repro-cli-'));
  try {
    const help = await hypertape(['report', '--help']);
    assert.is(help.code, 0);
    assert.ok(help.output.includes('Usage: hypertape report [RUN_FOLDER...] [--out FILE]'));
    const main = await hypertape(['--help']);
    assert.match(main.output, /Other commands:\n {2}report +writes docs\/REPRODUCTION\.md/);
    const runs = copyRuns(root);
    const out = join(root, 'doc', 'report.txt');
    const ok = await hypertape(['report', runs.toy!, runs.omniglot!, '--out', out]);
    assert.is(ok.code, 0, ok.output);
    assert.ok(ok.output.includes(`Wrote ${out}:`), ok.output);
    const md = readFileSync(out, 'utf8');
    assert.ok(md.includes('No hypercleaning run was given.') && md.includes('[figure1-error.svg](../figures/toy/figure1-error.svg)'));
    const missing = await hypertape(['report', join(root, 'nowhere'), '--out', join(root, 'x.txt')]);
    assert.is(missing.code, 1);
    assert.ok(missing.output.includes(`${join(root, 'nowhere')}: no such folder`) && missing.output.includes("hypertape report --help"), missing.output);
    assert.ok(!existsSync(join(root, 'x.txt')), 'nothing written');
    const twice = await hypertape(['report', runs.toy!, runs.toy!, '--out', join(root, 'x.txt')]);
    assert.is(twice.code, 1);
    assert.ok(twice.output.includes("two runs of 'toy' given"), twice.output);
    const bad = await hypertape(['report', '--outt', 'x']);
    assert.is(bad.code, 1);
    assert.ok(bad.output.includes("Unknown option '--outt'"), bad.output);
    edit(runs.toy!, (j) => { j.experiment = 'toys'; });
    await rejectsWith(() => buildReproduction([runs.toy!], out), 'results.json', `'experiment' is "toys"`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

s.run();
