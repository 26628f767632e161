// The saved state of a resumable experiment (state.json in its output folder): enough to continue
// an interrupted run and end with the same numbers as an uninterrupted one. It is rewritten
// atomically (temporary file + rename), so an interrupt at any moment leaves the previous
// complete state behind.
//
// The file: a header (format, version, the command that started the run, seed, the settings that
// change the numbers, optionally a fingerprint of the data), the experiment's own top-level fields,
// and `runs`, one record per run (per K, per trial...) in a payload the experiment declares with a
// schema (./schema.ts). `--resume DIR` reads it with validation: the settings must equal the
// current run's (the first difference is named, with the command line that would resume), and
// every field is checked against the declaration, with bounds and lengths computed from the
// settings (tau within 0..hyperIterations, one timing per hyper-iteration, lambda as long as the
// problem has examples). Errors name state.json, the field, what was found and what was expected.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../report.js';
import { flagName, UsageError, type OptionSpec } from '../registry.js';
import * as s from './schema.js';

/** The state file's name in an output folder. */
export const STATE_FILE = 'state.json';

/** What every state file starts with. */
export interface StateHeader {
  /** `hypertape/<experiment>-state`. */
  format: string;
  version: number;
  /** The command that started the run, every setting spelled out (`--resume DIR` appended resumes it). */
  command: string;
  seed: number;
  /** Every option that changes the numbers; a resume must match them. */
  settings: Record<string, unknown>;
  /** A hash of the drawn data (see `fingerprint`), so a resume from other data files is refused. */
  dataFingerprint?: string;
}

/** A whole state: header, the experiment's top-level fields, and its runs. */
export type ExperimentState<Run, Extra extends object = {}> = StateHeader & Extra & { runs: Run[] };

/**
 * How an experiment's state is laid out. `run` and `extra` are built from the run's settings, so
 * bounds can use them (`s.int({ max: settings.hyperIterations })`).
 */
export interface StateSpec<Settings, Run, Extra extends object = {}> {
  /** The experiment's name (the format is `hypertape/<name>-state`). */
  experiment: string;
  /** Raise it when the layout changes; files of other versions are refused by name. */
  version: number;
  /** One run's record. */
  run: (settings: Settings) => s.Schema<Run>;
  /** Top-level fields besides the header and `runs` (e.g. reference results computed once). */
  extra?: (settings: Settings) => { [k in keyof Extra]-?: s.Schema<Extra[k]> };
  /** At most this many runs (e.g. one per K). */
  maxRuns?: (settings: Settings) => number;
  /**
   * Checks across runs (e.g. K values distinct and among the requested ones): return undefined,
   * or [field, found, expected] with field relative to the state (`runs[2].K`).
   */
  checkRuns?: (runs: Run[], settings: Settings) => [field: string, found: string, expected: string] | undefined;
}

/** Declares a state layout (an identity function that fixes the type parameters). */
export function defineState<Settings, Run, Extra extends object = {}>(spec: StateSpec<Settings, Run, Extra>): StateSpec<Settings, Run, Extra> {
  return spec;
}

const formatOf = (experiment: string) => `hypertape/${experiment}-state`;

/** The state file of DIR. */
export const statePath = (dir: string): string => join(dir, STATE_FILE);

/** Whether DIR holds a saved state. */
export function hasState(dir: string): boolean {
  return existsSync(statePath(dir));
}

/** Writes DIR/state.json atomically (temporary file + rename). */
export function saveState(dir: string, state: StateHeader & { runs: unknown[] }): void {
  writeFileAtomic(statePath(dir), JSON.stringify(state) + '\n');
}

/**
 * The command line that starts (and, with `--resume DIR` appended, resumes) a run with exactly
 * these options: every option spelled out (empty strings, i.e. unset paths, left out), so defaults
 * changed by a later version do not matter. Pass the options without `resume`.
 */
export function commandFor(experiment: string, quick: boolean, seed: number, options: Record<string, unknown>): string {
  const flags = Object.entries(options).filter(([, v]) => v !== '').map(([k, v]) => {
    if (typeof v === 'boolean') return v ? `--${flagName(k)}` : `--no-${flagName(k)}`;
    const text = Array.isArray(v) ? v.join(',') : String(v);
    return `--${flagName(k)} ${text === '' || /[\s'"\\$`]/.test(text) ? `'${text.replace(/'/g, `'\\''`)}'` : text}`;
  });
  return ['hypertape', experiment, ...(quick ? ['--quick'] : []), '--seed', String(seed), ...flags].join(' ');
}

/** The command that resumes the run saved in DIR. */
export function resumeCommand(state: StateHeader, dir: string): string {
  return `${state.command} --resume ${/[\s'"\\$`]/.test(dir) ? `'${dir.replace(/'/g, `'\\''`)}'` : dir}`;
}

/** A fresh state for a new run. */
export function newState<Settings, Run, Extra extends object>(
  spec: StateSpec<Settings, Run, Extra>,
  header: { command: string; seed: number; settings: Settings & Record<string, unknown>; dataFingerprint?: string },
  extra: Extra,
): ExperimentState<Run, Extra> {
  const { dataFingerprint, ...rest } = header;
  return {
    format: formatOf(spec.experiment),
    version: spec.version,
    ...rest,
    ...(dataFingerprint !== undefined ? { dataFingerprint } : {}),
    ...extra,
    runs: [],
  } as ExperimentState<Run, Extra>;
}

/** An error in a saved state: names the file, the field, what was found and what was expected. */
export class StateError extends Error {
  constructor(
    readonly path: string,
    readonly field: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'StateError';
  }
}

const damaged = (path: string, e: s.SchemaError) =>
  new StateError(path, e.field, `${e.field} is ${e.found}; expected ${e.expected}. The file was edited or damaged: restore it, or start the run again without --resume.`);

function readJson(path: string, experiment: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      throw new StateError(path, '', `no such file (expected the saved state of an interrupted ${experiment} run; --resume takes the output folder of that run)`);
    }
    throw new StateError(path, '', `cannot read: ${err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new StateError(path, '', `not valid JSON (${(e as Error).message}); expected a ${experiment} state file`);
  }
}

/** The header's declaration (format and version are checked first, by value). */
const HEADER_FIELDS = {
  format: s.string(),
  version: s.int(),
  command: s.string(),
  seed: s.int({ min: 0 }),
  settings: s.record(s.unknown()),
  dataFingerprint: s.optional(s.string()),
};

/** The current run, which a saved state must match to be resumed. */
export interface CurrentRun<Settings> {
  seed: number;
  settings: Settings & Record<string, unknown>;
  dataFingerprint?: string;
  /** What the data fingerprint covers, for the message when it differs (e.g. 'MNIST data'; '--data-dir'). */
  dataHint?: string;
}

/**
 * Reads and validates DIR/state.json. With `current`, the saved settings and seed must equal the
 * current run's (a UsageError names the first difference and prints the command that resumes the
 * saved run) and so must the data fingerprint; then every field is checked against the
 * declaration built from those settings. Without `current` (tools, tests) the saved settings are
 * used to build the declaration.
 */
export function loadState<Settings, Run, Extra extends object>(
  spec: StateSpec<Settings, Run, Extra>,
  dir: string,
  current?: CurrentRun<Settings>,
): ExperimentState<Run, Extra> {
  const path = statePath(dir);
  const doc = readJson(path, spec.experiment);
  const format = formatOf(spec.experiment);
  const raw = doc as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || raw.format !== format) {
    throw new StateError(path, 'format', `not a ${spec.experiment} state file (format ${s.describeValue(raw?.format)}, expected '${format}')`);
  }
  if (raw.version !== spec.version) {
    throw new StateError(path, 'version', `state version ${s.describeValue(raw.version)}; this hypertape reads version ${spec.version} of ${spec.experiment} state files (finish the run with the hypertape that started it, or start again)`);
  }
  let header: StateHeader;
  try {
    header = s.object({ ...HEADER_FIELDS, runs: s.unknown() }, { allowExtra: true }).check(doc, '');
  } catch (e) {
    if (e instanceof s.SchemaError) throw damaged(path, e);
    throw e;
  }
  if (current) compareSettings(path, dir, header, current);
  const settings = (current?.settings ?? header.settings) as Settings;
  const extra = spec.extra?.(settings) ?? {};
  const maxRuns = spec.maxRuns?.(settings);
  try {
    const state = s.object({
      ...HEADER_FIELDS,
      ...(extra as s.Fields),
      runs: s.array(spec.run(settings), maxRuns !== undefined ? { maxLength: maxRuns } : {}),
    }).check(doc, '') as unknown as ExperimentState<Run, Extra>;
    const bad = spec.checkRuns?.(state.runs, settings);
    if (bad) throw new s.SchemaError(...bad);
    return state;
  } catch (e) {
    if (e instanceof s.SchemaError) throw damaged(path, e);
    throw e;
  }
}

function compareSettings<Settings>(path: string, dir: string, saved: StateHeader, current: CurrentRun<Settings>): void {
  const now = current.settings as Record<string, unknown>;
  const before = saved.settings;
  const resume = resumeCommand(saved, dir);
  for (const key of Object.keys(now)) {
    if (!(key in before)) {
      throw new StateError(path, `settings.${key}`, `settings.${key} is missing; expected the value of --${flagName(key)} the run was started with (this run has ${JSON.stringify(now[key])}). The file was edited or damaged, or made by another version: restore it, or start the run again without --resume.`);
    }
  }
  for (const key of Object.keys(before)) {
    if (!(key in now)) {
      throw new StateError(path, `settings.${key}`, `settings.${key} is not a setting of this hypertape's ${saved.format.replace(/^hypertape\/|-state$/g, '')} (found ${JSON.stringify(before[key])}); the file was edited or made by another version.`);
    }
  }
  const diffs = Object.keys(now)
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]))
    .map((k) => `--${flagName(k)} was ${JSON.stringify(before[k])}, now ${JSON.stringify(now[k])}`);
  if (saved.seed !== current.seed) diffs.unshift(`--seed was ${saved.seed}, now ${current.seed}`);
  if (diffs.length) {
    throw new UsageError(`the run in ${dir} (${path}) was started with other options (${diffs.join('; ')}). Resume it with the same ones:\n  ${resume}`);
  }
  if (current.dataFingerprint !== undefined && saved.dataFingerprint !== current.dataFingerprint) {
    throw new StateError(path, 'dataFingerprint', `the run was made with other data (fingerprint ${saved.dataFingerprint ?? 'missing'} saved, ${current.dataFingerprint} from ${current.dataHint ?? 'the data of this run'}); resume it with the same data (--data-dir) as the original run: ${resume}`);
  }
}

/**
 * Opens a run's state: a fresh one (refusing an output folder that already holds a run), or with
 * `resume`, the saved one after `loadState` validated it against the current run.
 */
export function openState<Settings, Run, Extra extends object>(
  spec: StateSpec<Settings, Run, Extra>,
  o: { out: string; resume: string; quick: boolean; command: string },
  current: CurrentRun<Settings>,
  extra: Extra,
): ExperimentState<Run, Extra> {
  if (!o.resume) {
    if (hasState(o.out)) {
      throw new UsageError(`${o.out} already holds a ${spec.experiment} run (${STATE_FILE}); continue it with --resume ${o.out}, or choose another --out.`);
    }
    return newState(spec, { command: o.command, seed: current.seed, settings: current.settings, ...(current.dataFingerprint !== undefined ? { dataFingerprint: current.dataFingerprint } : {}) }, extra);
  }
  return loadState(spec, o.resume, current);
}

/** FNV-1a (32-bit) over byte arrays, as 8 hex digits: a fingerprint of the data a run drew. */
export function fingerprint(...parts: ArrayBufferView[]): string {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const bytes = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i]!;
      h = Math.imul(h, 0x01000193);
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The fields every hyper-iteration record has, with their bounds: `tau` hyper-iterations done
 * (0..hyperIterations), `seconds` one per hyper-iteration done, and the peak GPU bytes of a
 * hypergradient. Spread them into a run's schema: `s.object({ K: ..., ...hyperRunFields(n), ... })`.
 */
export function hyperRunFields(hyperIterations: number) {
  return {
    tau: s.int({ min: 0, max: hyperIterations }),
    seconds: s.numbers({ length: (run: { tau: number }) => run.tau }),
    peakBytes: s.int({ min: 0 }),
    peakBytesTotal: s.int({ min: 0 }),
  };
}

/** The record `hyperRunFields` declares (what the hyper-iteration loop updates). */
export interface HyperRun {
  /** Hyper-iterations done. */
  tau: number;
  /** Seconds of each hyper-iteration done (over all sessions of the run). */
  seconds: number[];
  /** Largest peak of GPU bytes a hypergradient allocated above what was live before it. */
  peakBytes: number;
  /** Largest peak of all live GPU bytes during a hypergradient (data included). */
  peakBytesTotal: number;
}

/**
 * The options every resumable experiment declares, to spread into its `options`:
 * `checkpointEvery` (save every this-many hyper-iterations; `quick` under --quick) and `resume`.
 * Leave both out of the settings a resume compares.
 */
export function resumeOptions(checkpointEvery: number, quick?: number) {
  return {
    checkpointEvery: {
      type: 'int', min: 1, default: checkpointEvery, ...(quick !== undefined ? { quick } : {}),
      help: 'save the run\'s state to the output folder every this-many hyper-iterations',
    },
    resume: { type: 'string', default: '', help: 'continue the interrupted run saved in this folder (give the same options as the original run)' },
  } as const satisfies Record<string, OptionSpec>;
}
