// Driving bench/vs_torch.py: whether python3 with torch is here, and one long-lived Python process
// per comparison that loads the exported arrays once and then answers hypergradient requests
// (JSON lines), each timed inside Python around the hypergradient alone.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** How to get PyTorch on this machine's Debian, for the messages. */
export const TORCH_INSTALL_HINT = 'apt-get install python3-torch libopenblas0-pthread, and use /usr/bin/python3 (Debian\'s torch is installed for the system Python; set HYPERTAPE_PYTHON for another interpreter)';

/** The Python interpreter: $HYPERTAPE_PYTHON, else /usr/bin/python3 if present, else python3 on the PATH. */
export function pythonCommand(): string {
  return process.env.HYPERTAPE_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/** bench/vs_torch.py, found next to the bundle's folder (dist/, .test-dist/) or under the working directory. */
export function torchScript(): string {
  const candidates = [fileURLToPath(new URL('../bench/vs_torch.py', import.meta.url)), join(process.cwd(), 'bench', 'vs_torch.py')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`vs-torch: bench/vs_torch.py not found (looked at ${candidates.join(', ')}); run from the repository root`);
  return found;
}

/** Whether `python -c "import <modules>"` works, with the version printed or the reason it does not. */
export interface PythonCheck {
  /** Whether the import worked. */
  ok: boolean;
  /** The interpreter tried. */
  python: string;
  /** torch.__version__ when ok. */
  version?: string;
  /** Why not, in words, with what to do. */
  reason?: string;
}

/** Whether python3 with torch (and numpy) is available; runs `import torch` once. */
export function torchAvailability(): PythonCheck {
  const python = pythonCommand();
  const r = spawnSync(python, ['-c', 'import numpy, torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { ok: false, python, reason: `${python} could not be run (${r.error.message}); ${TORCH_INSTALL_HINT}` };
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? '';
    return { ok: false, python, reason: `${python} cannot import torch and numpy (${last}); ${TORCH_INSTALL_HINT}` };
  }
  return { ok: true, python, version: r.stdout.trim() };
}

/** Runs `vs_torch.py echo DIR OUT`: Python reads every exported array and writes it back raw. */
export function pythonEcho(dir: string, out: string): void {
  const python = pythonCommand();
  const r = spawnSync(python, [torchScript(), 'echo', dir, out], { encoding: 'utf8', timeout: 120_000 });
  if (r.error || r.status !== 0) throw new Error(`vs-torch: ${python} vs_torch.py echo failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}`);
}

/** One hypergradient computed by PyTorch: Python's own timing of it (ms) and f. */
export interface TorchResult {
  /** Milliseconds of the hypergradient, timed inside Python. */
  ms: number;
  /** f at w_T. */
  value: number;
}

/** A running `vs_torch.py serve DIR`. */
export class TorchWorker {
  private readonly pending: ((line: string) => void)[] = [];
  private stderr = '';
  private exited: string | null = null;
  /** torch.__version__, as Python reported it when ready. */
  torchVersion = '?';
  /** The OpenBLAS library whose threads Python sets along with torch's, or null if none was found. */
  blas: string | null = null;

  private constructor(private readonly child: ChildProcessWithoutNullStreams, python: string) {
    child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    createInterface({ input: child.stdout }).on('line', (line) => this.pending.shift()?.(line));
    const gone = (why: string) => {
      this.exited ??= why;
      for (const p of this.pending.splice(0)) p(JSON.stringify({ error: `${why}: ${this.stderr.trim()}` }));
    };
    child.on('error', (e) => gone(`could not start ${python}: ${e.message}`));
    child.on('exit', (code, signal) => gone(`${python} vs_torch.py exited (${signal ?? `code ${code}`})`));
  }

  private request(message: object | null): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`vs-torch: ${this.exited}: ${this.stderr.trim()}`));
    return new Promise((resolve) => {
      this.pending.push((line) => {
        try {
          resolve(JSON.parse(line) as Record<string, unknown>);
        } catch {
          resolve({ error: `not JSON: ${line}` });
        }
      });
      if (message) this.child.stdin.write(JSON.stringify(message) + '\n');
    });
  }

  /**
   * Starts Python on the exported folder and waits until it has loaded the data. OpenMP's idle
   * threads sleep instead of spinning (OMP_WAIT_POLICY=PASSIVE): on this shared 2-core machine,
   * with the default spinning, 2-thread PyTorch measured 10 to 30 times slower than 1-thread
   * (load average 11), which would be no fair yardstick.
   */
  static async start(dir: string): Promise<TorchWorker> {
    const python = pythonCommand();
    const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' };
    const child = spawn(python, [torchScript(), 'serve', dir], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const worker = new TorchWorker(child, python);
    const ready = await worker.request(null); // the line printed once the data are loaded
    if (ready.ready !== true) throw new Error(`vs-torch: vs_torch.py did not start: ${String(ready.error ?? JSON.stringify(ready))}`);
    worker.torchVersion = String(ready.torch);
    worker.blas = typeof ready.blas === 'string' ? ready.blas : null;
    return worker;
  }

  /**
   * The K-step truncated hypergradient in PyTorch with `threads` threads (torch.set_num_threads
   * and OpenBLAS's); h is written to `out` (raw float32) if given.
   */
  async hypergradient(K: number, threads: number, out?: string): Promise<TorchResult> {
    const r = await this.request({ K, threads, out: out ?? null });
    if (r.error !== undefined || typeof r.ms !== 'number' || typeof r.value !== 'number') {
      throw new Error(`vs-torch: PyTorch failed on K = ${K}: ${String(r.error ?? JSON.stringify(r))}`);
    }
    if (r.threads !== threads) throw new Error(`vs-torch: asked PyTorch for ${threads} threads, it ran with ${String(r.threads)}`);
    return { ms: r.ms, value: r.value };
  }

  /** Asks Python to exit and waits for it. */
  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end(JSON.stringify({ quit: true }) + '\n');
    await done;
  }
}
