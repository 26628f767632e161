// How an experiment plugs into the `hypertape` command: a name, help text, options with their
// paper-scale defaults and `--quick` values, and a run function that returns its report
// (numbers, Markdown, figures). The command (src/cli.ts) parses options against these
// declarations, so every experiment gets the same `--help`, the same errors for bad options and
// the same result files. Add an experiment by listing it in src/experiments/index.ts.
import { parseArgs } from 'node:util';
import type { AdapterReport } from '../gpu/engine.js';
import type { Progress } from './progress.js';
import type { Figure } from './report.js';
import { MAX_SEED } from '../data/random.js';

export type OptionType = 'int' | 'number' | 'string' | 'boolean' | 'ints' | 'numbers';

export interface OptionSpec {
  type: OptionType;
  /** One line for --help. */
  help: string;
  /** The value at the paper's scale. */
  default: number | string | boolean | readonly number[];
  /** The value under --quick, when it differs. */
  quick?: number | string | boolean | readonly number[];
  /** For 'string': the allowed values. */
  choices?: readonly string[];
  /** Inclusive bounds for numbers (each element for lists). */
  min?: number;
  max?: number;
  /** For lists: how many elements (e.g. 2 for a point in the plane). */
  length?: number;
}

export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S['type'] extends 'int' | 'number'
  ? number
  : S['type'] extends 'ints' | 'numbers'
    ? number[]
    : S['type'] extends 'boolean'
      ? boolean
      : string;

/** The parsed options of an experiment, typed from its declarations. */
export type OptionValues<O extends OptionSpecs> = { -readonly [k in keyof O]: ValueOf<O[k]> };

/** What a run is given besides its options. */
export interface RunContext {
  /** The output folder (created before the run). */
  out: string;
  seed: number;
  quick: boolean;
  adapter: AdapterReport;
  /** Prints one line (clears a progress bar first). */
  log: (line: string) => void;
  /** A progress display for `total` units of work. */
  /** A progress bar over `total` units, `already` of them done in an earlier session (a resumed run: counted, not timed). */
  progress: (label: string, total: number, already?: number) => Progress;
  /**
   * Writes `results.json` with what is known so far (marked incomplete), so a long run that
   * is interrupted leaves its finished parts behind.
   */
  checkpoint: (results: object) => void;
  /**
   * Aborted when the user asks the run to stop (the first Ctrl-C of the command, for an
   * experiment with a `resume` option): save the state at the next safe point and throw
   * RunInterrupted (src/experiments/shared/interrupt.ts; the loop in shared/loop.ts does both).
   */
  signal: AbortSignal;
}

/**
 * What a run returns; src/experiments/report.ts turns it into files. `R` is the experiment's
 * results interface (e.g. `{ table: Row[]; ... }`): its keys become top-level keys of results.json.
 */
export interface ExperimentReport<R extends object = object> {
  /** Every number of the tables and every series of the figures (goes into results.json). */
  results: R;
  /** The Markdown body of summary.md (tables laid out like the paper's). */
  summary: string;
  figures: Figure[];
}

/** An experiment: its options `O` and the results interface `R` of its report. */
export interface Experiment<O extends OptionSpecs = OptionSpecs, R extends object = object> {
  name: string;
  /** One line for the command's list of experiments. */
  summary: string;
  /** Paragraphs for `hypertape <name> --help`: what it reproduces, the choices it makes. */
  description: string;
  options: O;
  /** Checks that need several options at once (throw UsageError); runs before the GPU starts. */
  validate?: (options: OptionValues<O>) => void;
  run: (options: OptionValues<O>, context: RunContext) => Promise<ExperimentReport<R>>;
}

/** Declares an experiment; `const` keeps option types literal so `run` gets typed options. */
export function defineExperiment<const O extends OptionSpecs, R extends object = object>(experiment: Experiment<O, R>): Experiment<O, R> {
  return experiment;
}

// ---- options shared by every experiment ------------------------------------------------------

export const COMMON_OPTIONS = {
  out: { type: 'string', help: 'output folder', default: 'results/<experiment>/<timestamp>' },
  seed: { type: 'int', help: 'seed of every random choice (data subsets, initialisations)', default: 0, min: 0, max: MAX_SEED },
  quick: { type: 'boolean', help: 'a small profile that finishes in minutes on a software GPU (default: the paper\'s scale)', default: false },
  backend: { type: 'string', help: 'WebGPU backend under Node (also HYPERTAPE_BACKEND)', default: 'auto', choices: ['auto', 'vulkan', 'opengles'] },
  verbose: { type: 'boolean', help: "on an error, print its stack trace (also DEBUG=hypertape); show Dawn's start-up messages", default: false },
  help: { type: 'boolean', help: 'show this help', default: false },
} as const satisfies OptionSpecs;

export type CommonValues = OptionValues<typeof COMMON_OPTIONS>;

/** A mistake in the command line; the command prints it with a pointer to --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The command-line flag of an option key: `hyperIterations` -> `hyper-iterations`; a key of one
 * letter stays as it is (`K`, `T`, as in the paper). Flags are matched case-insensitively.
 */
export function flagName(key: string): string {
  return key.length === 1 ? key : key.replace(/(?<!^)[A-Z]/g, (c) => '-' + c).toLowerCase();
}

function describeAllowed(spec: OptionSpec): string {
  const range = spec.min !== undefined && spec.max !== undefined
    ? ` in [${spec.min}, ${spec.max}]`
    : spec.min !== undefined ? ` >= ${spec.min}` : spec.max !== undefined ? ` <= ${spec.max}` : '';
  switch (spec.type) {
    case 'int': return `an integer${range}`;
    case 'number': return `a number${range}`;
    case 'ints': return `${spec.length ?? 'a comma-separated list of'} integers${range}${spec.length ? ', comma-separated' : ''}`;
    case 'numbers': return `${spec.length ?? 'a comma-separated list of'} numbers${range}${spec.length ? ', comma-separated' : ''}`;
    case 'boolean': return 'true or false (or the flag alone)';
    case 'string': return spec.choices ? `one of ${spec.choices.join(', ')}` : 'a string';
  }
}

function parseValue(flag: string, spec: OptionSpec, raw: string): OptionSpec['default'] {
  const bad = () => new UsageError(`--${flag} expects ${describeAllowed(spec)}; got '${raw}'.`);
  const num = (s: string, integer: boolean) => {
    const t = s.trim();
    const v = Number(t);
    if (t === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw bad();
    if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) throw bad();
    return v;
  };
  switch (spec.type) {
    case 'int': return num(raw, true);
    case 'number': return num(raw, false);
    case 'ints':
    case 'numbers': {
      const list = raw.split(',').map((s) => num(s, spec.type === 'ints'));
      if (list.length === 0 || (spec.length !== undefined && list.length !== spec.length)) throw bad();
      return list;
    }
    case 'boolean':
      if (['true', '1', 'yes'].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      throw bad();
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) throw bad();
      return raw;
  }
}

export interface ParsedArgs<O extends OptionSpecs> {
  common: CommonValues;
  options: OptionValues<O>;
  /** The flags given on the command line (by option key), for the record. */
  given: string[];
}

/**
 * Parses `--name value`, `--name=value`, `--flag` and `--no-flag` against the experiment's
 * options and the common ones. Defaults come from `quick` under --quick, else `default`.
 * node:util's parseArgs splits the command line into tokens; the checks and messages are ours.
 */
export function parseOptions<O extends OptionSpecs>(experiment: Experiment<O>, argv: readonly string[]): ParsedArgs<O> {
  const specs: OptionSpecs = { ...COMMON_OPTIONS, ...experiment.options };
  const byFlag = new Map(Object.keys(specs).map((k) => [flagName(k).toLowerCase(), k]));
  // Flags are case-insensitive (`--K` and `--k`): parseArgs gets them lowercased.
  const lowered = argv.map((arg) => {
    if (!arg.startsWith('--')) return arg;
    const eq = arg.indexOf('=');
    return eq >= 0 ? arg.slice(0, eq).toLowerCase() + arg.slice(eq) : arg.toLowerCase();
  });
  const { tokens } = parseArgs({
    args: lowered,
    options: Object.fromEntries([...byFlag].map(([flag, key]) => [flag, { type: specs[key]!.type === 'boolean' ? 'boolean' as const : 'string' as const }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const raw = new Map<string, string | boolean>();
  for (const token of tokens) {
    const arg = argv[token.index]!;
    if (token.kind === 'positional' || (token.kind === 'option' && !token.rawName.startsWith('--'))) {
      throw new UsageError(`unexpected argument '${arg}' (options start with --; see hypertape ${experiment.name} --help).`);
    }
    const eq = arg.indexOf('=');
    const given = eq >= 0 ? arg.slice(0, eq) : arg;
    let flag = token.kind === 'option' ? token.name : '';
    let negated = false;
    if (!byFlag.has(flag) && flag.startsWith('no-') && specs[byFlag.get(flag.slice(3)) ?? '']?.type === 'boolean') {
      flag = flag.slice(3);
      negated = true;
    }
    const key = byFlag.get(flag);
    if (token.kind !== 'option' || key === undefined) {
      const allowed = Object.keys(specs).map((k) => '--' + flagName(k)).join(', ');
      throw new UsageError(`unknown option ${given} for '${experiment.name}'; allowed: ${allowed}.`);
    }
    const spec = specs[key]!;
    if (spec.type === 'boolean') {
      raw.set(key, negated ? false : token.inlineValue ? token.value! : true);
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw new UsageError(`--${flagName(key)} needs a value: ${describeAllowed(spec)}.`);
    } else {
      raw.set(key, token.value);
    }
  }
  const quickRaw = raw.get('quick');
  const quick = quickRaw === undefined ? false : typeof quickRaw === 'boolean' ? quickRaw : (parseValue('quick', COMMON_OPTIONS.quick, quickRaw) as boolean);
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const given = raw.get(key);
    if (given === undefined) {
      const d = quick && spec.quick !== undefined ? spec.quick : spec.default;
      values[key] = Array.isArray(d) ? [...d] : d;
    } else {
      values[key] = typeof given === 'boolean' ? given : parseValue(flagName(key), spec, given);
    }
  }
  const common = {} as Record<string, unknown>;
  const options = {} as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    if (key in experiment.options) options[key] = values[key];
    else common[key] = values[key];
  }
  experiment.validate?.(options as OptionValues<O>);
  return { common: common as CommonValues, options: options as OptionValues<O>, given: [...raw.keys()] };
}

function formatDefault(v: OptionSpec['default'] | undefined): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

function optionLines(specs: OptionSpecs): string[] {
  const rows = Object.entries(specs).map(([key, spec]) => {
    const meta = spec.type === 'boolean' ? '' : spec.type === 'string' && spec.choices ? ` <${spec.choices.join('|')}>` : ` <${spec.type === 'ints' || spec.type === 'numbers' ? 'a,b,...' : spec.type === 'string' ? 'text' : 'n'}>`;
    const left = `  --${flagName(key)}${meta}`;
    let right = spec.help;
    if (spec.type !== 'boolean' || spec.default !== false) {
      right += ` (default ${formatDefault(spec.default)}${spec.quick !== undefined ? `; --quick: ${formatDefault(spec.quick)}` : ''})`;
    }
    return [left, right] as const;
  });
  const width = Math.min(28, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, r]) => {
    const text = wrap(r, HELP_COLUMNS - width).join('\n' + ' '.repeat(width));
    return l.length + 2 > width ? `${l}\n${' '.repeat(width)}${text}` : l.padEnd(width) + text;
  });
}

const HELP_COLUMNS = 100;

/** Breaks text into lines of at most `columns` characters at spaces. */
function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The text of `hypertape <experiment> --help`. */
export function experimentHelp<O extends OptionSpecs>(experiment: Experiment<O>): string {
  return [
    `Usage: hypertape ${experiment.name} [options]`,
    '',
    experiment.summary,
    '',
    experiment.description.trim(),
    '',
    'Options:',
    ...optionLines(experiment.options),
    '',
    'Common options:',
    ...optionLines(COMMON_OPTIONS),
    '',
  ].join('\n');
}
