// Runs one experiment from parsed options: picks the output folder, hands the experiment its
// context (log, progress, checkpoints), times it and writes its report. Shared by the command
// and the tests; the GPU must be initialised (init()) before.
import { mkdirSync } from 'node:fs';
import { engine } from '../gpu/device.js';
import { createConsole, type Console } from './progress.js';
import { packageVersion, writePartialResults, writeReport, type RunMeta } from './report.js';
import { COMMON_OPTIONS, flagName, type Experiment, type OptionSpecs, type ParsedArgs } from './registry.js';

/** What a finished run wrote and returned. */
export interface RunOutcome<R extends object = object> {
  dir: string;
  /** Every file written, results.json first. */
  paths: string[];
  meta: RunMeta;
  results: R;
}

/** `results/<experiment>/<UTC time>`, e.g. results/toy/2026-11-27T05-30-12Z. */
export function defaultOutDir(experiment: string, now = new Date()): string {
  return `results/${experiment}/${now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}`;
}

function commandLine<O extends OptionSpecs>(experiment: Experiment<O>, parsed: ParsedArgs<O>): string {
  const all = { ...parsed.common, ...parsed.options } as Record<string, unknown>;
  const flags = parsed.given.filter((k) => k !== 'help').map((k) => {
    const v = all[k];
    if (typeof v === 'boolean') return v ? `--${flagName(k)}` : `--no-${flagName(k)}`;
    return `--${flagName(k)} ${Array.isArray(v) ? v.join(',') : String(v)}`;
  });
  return ['hypertape', experiment.name, ...flags].join(' ');
}

/**
 * Runs an experiment and writes its report. `io.signal`, when aborted, asks a resumable
 * experiment to save its state and stop (it then throws RunInterrupted).
 */
export async function runExperiment<O extends OptionSpecs, R extends object>(
  experiment: Experiment<O, R>,
  parsed: ParsedArgs<O>,
  io: { console?: Console; command?: string; signal?: AbortSignal } = {},
): Promise<RunOutcome<R>> {
  const con = io.console ?? createConsole();
  const started = new Date();
  // An experiment with a `resume` option continues in the folder of the run it resumes.
  const resume = (parsed.options as Record<string, unknown>).resume;
  const dir = parsed.common.out !== COMMON_OPTIONS.out.default
    ? parsed.common.out
    : typeof resume === 'string' && resume !== '' ? resume : defaultOutDir(experiment.name, started);
  mkdirSync(dir, { recursive: true });
  const { help: _help, out: _out, ...commonSettings } = parsed.common;
  const meta: RunMeta = {
    experiment: experiment.name,
    title: experiment.summary,
    version: packageVersion(),
    command: io.command ?? commandLine(experiment, parsed),
    seed: parsed.common.seed,
    quick: parsed.common.quick,
    settings: { ...parsed.options, ...commonSettings },
    adapter: engine().adapter,
    startedAt: started.toISOString(),
    node: process.version,
  };
  const t0 = performance.now();
  const report = await experiment.run(parsed.options, {
    out: dir,
    seed: parsed.common.seed,
    quick: parsed.common.quick,
    adapter: engine().adapter,
    log: con.log,
    progress: con.progress,
    checkpoint: (results) => {
      writePartialResults(dir, { ...meta, wallSeconds: (performance.now() - t0) / 1000 }, results);
    },
    signal: io.signal ?? new AbortController().signal,
  });
  meta.wallSeconds = (performance.now() - t0) / 1000;
  const paths = await writeReport(dir, meta, report);
  return { dir, paths, meta, results: report.results };
}
