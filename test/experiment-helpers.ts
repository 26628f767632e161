// Helpers for the experiments' end-to-end tests: the real `hypertape` command in a child process
// (run to the end, or stopped by a signal after its first save of state.json), edited copies of a
// saved state, and comparisons of results that leave out what depends on the machine's load.
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** How a child `hypertape` process ended. */
export interface ChildRun {
  /** Exit status, or null when a signal killed it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr together. */
  output: string;
}

/**
 * Runs `hypertape ARGS` (bin/hypertape.js, i.e. dist/cli.js built by `npm test`) in a child
 * process. With `stopWith`, sends that signal as soon as `stopWith.dir`/state.json exists (the
 * run's first save).
 */
export function hypertape(
  args: readonly string[],
  stopWith?: { dir: string; signal: NodeJS.Signals; timeoutMs?: number },
): Promise<ChildRun> {
  const child = spawn(process.execPath, ['bin/hypertape.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<ChildRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, output })));
  if (stopWith) {
    const deadline = Date.now() + (stopWith.timeoutMs ?? 120_000);
    const poll = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (existsSync(join(stopWith.dir, 'state.json'))) {
        child.kill(stopWith.signal);
      } else if (Date.now() < deadline) setTimeout(poll, 10);
      else child.kill('SIGKILL');
    };
    poll();
  }
  return exited;
}

/** Copies DIR/state.json to a new folder TO with `edit` applied to the parsed JSON. */
export function editedState(dir: string, to: string, edit: (state: any) => void): string {
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
  edit(state);
  mkdirSync(to, { recursive: true });
  writeFileSync(join(to, 'state.json'), JSON.stringify(state));
  return to;
}

/** Awaits `run` and expects an Error whose message contains every one of `parts`; returns it. */
export async function expectError(run: () => Promise<unknown>, ...parts: string[]): Promise<Error> {
  try {
    await run();
  } catch (e) {
    const msg = (e as Error).message;
    for (const p of parts) assert.ok(msg.includes(p), `error "${msg}" lacks "${p}"`);
    return e as Error;
  }
  assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
  throw new Error('unreachable');
}

/** Table rows without what depends on the machine's load (timings) or on the session (peak bytes). */
export function withoutTimings<T extends object>(rows: readonly T[]): Partial<T>[] {
  return rows.map((row) => {
    const { secPerHyperiter: _s, secPerHyperiterMedian: _m, peakBytes: _p, peakBytesTotal: _q, ...rest } = row as Record<string, unknown>;
    return rest as Partial<T>;
  });
}

/** Whether DIR/results.json is missing or marked incomplete (what a failed or stopped run must leave). */
export function noCompleteResults(dir: string): boolean {
  const path = join(dir, 'results.json');
  return !existsSync(path) || JSON.parse(readFileSync(path, 'utf8')).complete === false;
}
