// `hypertape report`: reads the results.json of one run of each experiment and writes
// docs/REPRODUCTION.md, the paper's Tables 2-4 beside ours, the settings that differ, the machine,
// every figure with a verdict, and the claims we test. The sections are built in
// reproduction-tables.ts and reproduction-findings.ts from cells (reproduction-cells.ts), so every
// number of ours is traced to a path in a results.json; test/reproduction.test.ts regenerates the
// committed document and checks each cell against the files.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from './report.js';
import { CellBook, FORMULAS, type Cell, type CellSources, type FormulaName } from './reproduction-cells.js';
import { machineSection, REPORT_EXPERIMENTS, table2Section, table3Section, table4Section, settingsTable, type ReportContext, type ReportExperiment, type ReportRun } from './reproduction-tables.js';
import { claimsSection, figuresSection } from './reproduction-findings.js';
import { SETTINGS, TABLE2, TABLE3, TABLE4 } from './paper-numbers.js';
import { UsageError } from './registry.js';

/** Where the report goes by default. */
export const DEFAULT_REPORT_OUT = 'docs/REPRODUCTION.md';

/** The paper's numbers as cells read them (`{ paper: 'table2', path: 'rows[K=1].testAcc' }`). */
export const PAPER_SOURCES: Record<string, unknown> = { table2: TABLE2, table3: TABLE3, table4: TABLE4, settings: SETTINGS };

/**
 * The committed runs: docs/figures/<experiment>-paper when it exists (a paper-scale run), else
 * docs/figures/<experiment>; the toy's default profile is the paper's scale. Folders without a
 * results.json are left out.
 */
export function defaultRunFolders(root = '.'): string[] {
  return REPORT_EXPERIMENTS.map((e) => {
    const paperScale = join(root, 'docs', 'figures', `${e}-paper`);
    return existsSync(join(paperScale, 'results.json')) ? paperScale : join(root, 'docs', 'figures', e);
  }).filter((d) => existsSync(join(d, 'results.json')));
}

/** Reads a run folder: its results.json (which names the experiment) and its SVG figures. */
export function loadRun(dir: string, reportDir: string): ReportRun {
  const file = join(dir, 'results.json');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: no such folder; give the output folder of a 'hypertape <experiment>' run.`);
  if (!existsSync(file)) throw new UsageError(`${file}: no such file; give the output folder of a 'hypertape <experiment>' run (it holds results.json).`);
  let json: Record<string, any>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); rerun the experiment to rewrite it.`);
  }
  const experiment = json?.experiment;
  if (!(REPORT_EXPERIMENTS as readonly string[]).includes(experiment)) {
    throw new Error(`${file}: 'experiment' is ${JSON.stringify(experiment)}, expected one of ${REPORT_EXPERIMENTS.join(', ')}.`);
  }
  const link = relative(reportDir, dir).split(sep).join('/') || '.';
  const figures = readdirSync(dir).filter((f) => f.endsWith('.svg')).map((f) => f.slice(0, -4)).sort();
  return { experiment: experiment as ReportExperiment, link, json, figures };
}

/** What `buildReproduction` made: the document and the cells behind its numbers. */
export interface Reproduction {
  markdown: string;
  cells: Cell[];
  /** The files the cells were read from (results.json by experiment, and the paper's numbers). */
  sources: CellSources;
  /** The run folders read, by experiment. */
  folders: Partial<Record<ReportExperiment, string>>;
}

/** Builds docs/REPRODUCTION.md's text from run folders (one per experiment at most) for a document at `out`. */
export function buildReproduction(dirs: readonly string[], out: string): Reproduction {
  const reportDir = dirname(resolve(out));
  const runs: Partial<Record<ReportExperiment, ReportRun>> = {};
  const folders: Partial<Record<ReportExperiment, string>> = {};
  for (const dir of dirs) {
    const run = loadRun(dir, reportDir);
    if (runs[run.experiment]) {
      throw new UsageError(`two runs of '${run.experiment}' given (${folders[run.experiment]} and ${dir}); give one folder per experiment.`);
    }
    runs[run.experiment] = run;
    folders[run.experiment] = dir;
  }
  const sources: CellSources = { runs: Object.fromEntries(Object.entries(runs).map(([e, r]) => [e, r.json])), paper: PAPER_SOURCES };
  const book = new CellBook(sources);
  const ctx: ReportContext = { book, runs };
  const body = [
    ...machineSection(ctx), '',
    ...claimsSection(ctx), '',
    ...table2Section(ctx), '',
    ...table3Section(ctx), '',
    ...table4Section(ctx), '',
    ...toySection(ctx), '',
    ...figuresSection(ctx),
  ];
  const used = [...new Set(book.cells.map((c) => c.formula))].sort() as FormulaName[];
  const markdown = [
    '# Reproduction report',
    '',
    '*Truncated Back-propagation for Bilevel Optimization* (Shaban, Cheng, Hatch, Boots; AISTATS 2019), reproduced by hypertape.',
    '',
    `Generated by \`npx hypertape report\` from the results.json of the runs listed below; do not edit it by hand. ` +
      `Every number of ours is read from a results.json or computed from one by a formula listed at the end; ` +
      `the paper's numbers are typed in once, in src/experiments/paper-numbers.ts. test/reproduction.test.ts regenerates this file ` +
      `from the committed runs, checks that it is identical, and checks each of its ${book.cells.length} numbers of ours against its file.`,
    '',
    ...body,
    '## How the numbers are made',
    '',
    'Each number of ours is one of these formulas applied to values at paths in a results.json (or the paper\'s numbers):',
    '',
    ...used.map((f) => `- \`${f}\`: ${FORMULAS[f].describe}`),
    '',
  ].join('\n');
  return { markdown, cells: book.cells, sources, folders };
}

function toySection(ctx: ReportContext): string[] {
  const run = ctx.runs.toy;
  const out = ['## Figures 1-4: the toy problem (section 4.1)', ''];
  if (!run) return [...out, 'No toy run was given.'];
  const b = ctx.book;
  return [
    ...out,
    `The paper has no table for the toy problem; its claims are in the Claims section and its figures below. The engine's hypergradients ` +
      `agree with the closed form to ${b.cell('value', [{ run: 'toy', path: 'closedFormCheck.maxAbsDeviation' }], 's2')} (largest absolute deviation over ` +
      `${b.cell('value', [{ run: 'toy', path: 'closedFormCheck.hypergradients' }], 'f0')} hypergradients, \`closedFormCheck\` of [results.json](${run.link}/results.json)).`,
    '',
    '### Settings',
    '',
    ...settingsTable(ctx, 'toy'),
  ];
}

/** The text of `hypertape report --help`. */
export const REPORT_HELP = `Usage: hypertape report [RUN_FOLDER...] [--out FILE]

Writes the reproduction report: the paper's Tables 2, 3 and 4 beside ours with the differences,
the settings that differ from the paper's, the machine of each run, each of our figures beside
what the paper's shows (with a yes/no decided by numbers from the results), and the paper's
claims we test. Every number of ours comes from the runs' results.json.

RUN_FOLDER: output folders of 'hypertape <experiment>' runs, at most one per experiment (each
results.json names its experiment). Default: the committed runs, docs/figures/<experiment>-paper
where it exists, else docs/figures/<experiment>, for toy, hypercleaning, task-interaction and
omniglot.

Options:
  --out FILE   where to write (default ${DEFAULT_REPORT_OUT}); figure links are relative to it
  --help       show this help
`;

/** `hypertape report [folders...] [--out FILE]`: writes the document and returns what to print. */
export function runReportCommand(argv: readonly string[]): string {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`report: ${(e as Error).message.split('\n')[0]}`);
  }
  if (parsed.values.help) return REPORT_HELP;
  const out = parsed.values.out ?? DEFAULT_REPORT_OUT;
  const dirs = parsed.positionals.length ? parsed.positionals : defaultRunFolders();
  if (!dirs.length) throw new UsageError(`report: no run folders given and none committed under docs/figures/; give the output folders of 'hypertape <experiment>' runs.`);
  const r = buildReproduction(dirs, out);
  writeFileAtomic(out, r.markdown);
  const read = REPORT_EXPERIMENTS.filter((e) => r.folders[e]).map((e) => `${e}: ${r.folders[e]}`);
  return `Wrote ${out}: ${r.cells.length} numbers from ${read.length} run(s) (${read.join('; ')}).\n`;
}
