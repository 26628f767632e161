// The `hypertape` command: `hypertape <experiment> [options]`. Parses the options against the
// experiment's declarations (src/experiments/registry.ts), initialises the GPU, runs the
// experiment with progress on the terminal, and ends with the paths of the files it wrote.
import { init } from './gpu/node.js';
import { experiments, findExperiment } from './experiments/index.js';
import { experimentHelp, parseOptions, UsageError } from './experiments/registry.js';
import { createConsole } from './experiments/progress.js';
import { runExperiment } from './experiments/run.js';
import { packageVersion } from './experiments/report.js';
import { runReportCommand } from './experiments/reproduction.js';
import { interruptOnSigint, RunInterrupted, INTERRUPTED_EXIT_CODE } from './experiments/shared/interrupt.js';

function mainHelp(): string {
  const width = Math.max(...experiments.map((e) => e.name.length)) + 4;
  return [
    'Usage: hypertape <experiment> [options]',
    '',
    'Reproduces the experiments of "Truncated Back-propagation for Bilevel Optimization"',
    '(Shaban et al., AISTATS 2019) on WebGPU. Each run writes results.json, summary.md and SVG',
    'figures to --out (default results/<experiment>/<timestamp>).',
    '',
    'Experiments:',
    ...experiments.map((e) => `  ${e.name.padEnd(width)}${e.summary}`),
    '',
    'Other commands:',
    `  ${'report'.padEnd(width)}writes docs/REPRODUCTION.md (the paper's tables beside ours) from runs' results.json`,
    '',
    'Common options: --out DIR, --seed N, --quick, --backend auto|vulkan|opengles, --help.',
    "Run 'hypertape <experiment> --help' for an experiment's options; 'hypertape --version' prints",
    'the version.',
    '',
    'Exit status: 0 done; 1 bad input (an unknown option, a bad value, a bad file) or a failure;',
    '130 interrupted (Ctrl-C) after saving what a long run needs to resume with --resume.',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const about = first === 'help' && rest[0] ? findExperiment(rest[0]) : undefined;
    process.stdout.write(about ? experimentHelp(about) : mainHelp());
    return 0;
  }
  if (first === '--version' || first === '-v') {
    console.log(packageVersion());
    return 0;
  }
  if (first === 'report') {
    process.stdout.write(runReportCommand(rest));
    return 0;
  }
  const experiment = findExperiment(first);
  if (!experiment) {
    throw new UsageError(`unknown experiment '${first}'; available: ${experiments.map((e) => e.name).join(', ')}.`);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(experimentHelp(experiment));
    return 0;
  }
  const parsed = parseOptions(experiment, rest);
  const con = createConsole();
  const engine = await init({ backend: parsed.common.backend as 'auto' | 'vulkan' | 'opengles' });
  const a = engine.adapter;
  con.log(`hypertape ${packageVersion()}: ${experiment.summary}`);
  con.log(`GPU: ${a.description} (${a.backend} backend, ${a.featureLevel} feature level${a.software ? ', software' : ''})`);
  con.log(`Profile: ${parsed.common.quick ? '--quick (small)' : "the paper's scale"}; seed ${parsed.common.seed}.`);
  // A resumable experiment (one with --resume) stops at its next safe point on a first Ctrl-C.
  const interrupt = 'resume' in experiment.options ? interruptOnSigint(con.log) : undefined;
  const outcome = await runExperiment(experiment, parsed, { console: con, ...(interrupt ? { signal: interrupt.signal } : {}) });
  interrupt?.dispose();
  con.log(`Done in ${outcome.meta.wallSeconds!.toFixed(1)} s. Wrote:`);
  for (const p of outcome.paths) con.log(`  ${p}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof RunInterrupted) {
      process.stderr.write(`hypertape: ${e.message}\n`);
      process.exit(INTERRUPTED_EXIT_CODE);
    }
    if (e instanceof UsageError) {
      const name = process.argv[2];
      const pointer = name && (findExperiment(name) || name === 'report') ? `hypertape ${name} --help` : 'hypertape --help';
      process.stderr.write(`hypertape: ${e.message}\nRun '${pointer}' for the options.\n`);
      process.exit(1);
    }
    // The message only; the stack with --verbose or DEBUG=hypertape.
    const verbose = process.argv.includes('--verbose') || /(^|[\s,])(hypertape|\*)([\s,:]|$)/.test(process.env.DEBUG ?? '');
    const message = e instanceof Error ? (verbose ? (e.stack ?? e.message) : e.message) : String(e);
    process.stderr.write(`${message.startsWith('hypertape:') ? '' : 'hypertape: '}${message}\n`);
    process.exit(1);
  },
);
