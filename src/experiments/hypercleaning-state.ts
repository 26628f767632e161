// The saved state of a hypercleaning run (state.json in the output folder): enough to continue
// an interrupted run and end with the same numbers as an uninterrupted one. It is rewritten
// atomically (temporary file + rename) every few hyper-iterations, so an interrupt at any moment
// leaves the previous complete state behind. It also keeps the final lambda of every K, from
// which the flags (and F1) of Table 2 can be recomputed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './report.js';

export const STATE_FILE = 'state.json';
const FORMAT = 'hypertape/hypercleaning-state';
const VERSION = 1;

/** Accuracy and loss of one classifier W_T. */
export interface ClassifierMetrics {
  testAcc: number;
  valAcc: number;
  valLoss: number;
}

export interface FinalMetrics extends ClassifierMetrics {
  f1: number;
  precision: number;
  recall: number;
  /** Examples flagged as corrupted (lambda_i < -3). */
  flagged: number;
}

/** Classifiers trained with fixed weights: all 1, all sigmoid(lambda0), clean examples only. */
export interface References {
  baseline: ClassifierMetrics;
  initial: ClassifierMetrics;
  oracle: ClassifierMetrics;
}

export interface RunState {
  K: number;
  /** Hyper-iterations done: lambda below is lambda_tau. */
  tau: number;
  lambda: number[];
  /** f(w_T(lambda_tau), lambda_tau) for tau = 0 .. tau-1, as returned with each hypergradient. */
  valLoss: number[];
  /** ||d_lambda f|| of the exact hypergradient (full RMD) at sampled iterates (Figure 5). */
  exactGradNorm: { tau: number; norm: number }[];
  /** Seconds of each hyper-iteration (hypergradient + update), over all sessions of the run. */
  seconds: number[];
  /** Largest peak of GPU bytes a hypergradient call allocated above what was live before it. */
  peakBytes: number;
  /** Largest peak of all live GPU bytes during a hypergradient call (data included). */
  peakBytesTotal: number;
  /** Set once the run has finished its hyper-iterations and been evaluated. */
  final?: FinalMetrics;
}

export interface HypercleaningState {
  format: typeof FORMAT;
  version: number;
  /** The command that started the run (shown when a resume is refused). */
  command: string;
  seed: number;
  /** Every option that changes the numbers; a resume must match them. */
  settings: Record<string, unknown>;
  /** A hash of the drawn data, so a resume from other MNIST files is refused. */
  dataFingerprint: string;
  references?: References;
  runs: RunState[];
}

export function newState(command: string, seed: number, settings: Record<string, unknown>, dataFingerprint: string): HypercleaningState {
  return { format: FORMAT, version: VERSION, command, seed, settings, dataFingerprint, runs: [] };
}

export function saveState(dir: string, state: HypercleaningState): void {
  writeFileAtomic(join(dir, STATE_FILE), JSON.stringify(state) + '\n');
}

export function hasState(dir: string): boolean {
  return existsSync(join(dir, STATE_FILE));
}

/** Reads DIR/state.json; errors name the file and what was expected. */
export function loadState(dir: string): HypercleaningState {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      throw new Error(`${path}: no such file (expected the saved state of an interrupted hypercleaning run; --resume takes the output folder of that run)`);
    }
    throw new Error(`${path}: cannot read: ${err.message}`);
  }
  let state: HypercleaningState;
  try {
    state = JSON.parse(text) as HypercleaningState;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message}); expected a hypercleaning state file`);
  }
  if (state?.format !== FORMAT) throw new Error(`${path}: not a hypercleaning state file (format '${String(state?.format)}', expected '${FORMAT}')`);
  if (state.version !== VERSION) throw new Error(`${path}: state version ${state.version}, this hypertape reads version ${VERSION}`);
  if (!Array.isArray(state.runs)) throw new Error(`${path}: has no 'runs' list`);
  for (const r of state.runs) {
    if (!Number.isInteger(r.K) || !Number.isInteger(r.tau) || !Array.isArray(r.lambda)) {
      throw new Error(`${path}: a run entry lacks K, tau or lambda`);
    }
  }
  return state;
}

/** FNV-1a (32-bit) over byte arrays, as 8 hex digits. */
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
