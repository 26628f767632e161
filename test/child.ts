// Runs a Node script in a child process for the tests that need a fresh process (a crash there
// must not take the suite down; a process must exit by itself; the command's real output).
import { spawn } from 'node:child_process';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `node <args>` with `env` added to this process's environment; resolves when it exits, and
 * rejects (after SIGKILL) if it runs longer than `timeoutMs`.
 */
export function runNode(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; what?: string } = {}): Promise<ChildResult> {
  const what = opts.what ?? args.join(' ');
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${what} did not exit within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** The last line of a child's stdout, parsed as JSON (the report the child scripts print). */
export function lastJsonLine<T>(r: ChildResult, what: string): T {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code ?? r.signal}; stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what} printed no JSON report:\n${r.stdout}\n${r.stderr}`);
  }
}
