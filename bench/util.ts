// Timing helpers shared by every benchmark section (bench/*.ts). A section is a named async
// function returning rows; scripts/bench.ts prints one table per section and writes them all to
// bench-results/bench.json. GPU work is timed wall-clock from the first enqueue to the end of
// sync(), after warm-up (pipeline compilation, pool fill), and reported as the median of several
// repetitions because other processes share this machine's CPUs.
import { dispose, engine, sync, tidy, type Tensor } from '../src/node.js';

export interface BenchRow {
  /** What was measured, e.g. 'matmul 5000x785 @ 785x10'. */
  name: string;
  /** Median milliseconds per operation. */
  ms: number;
  /** Throughput in `unit` (GFLOP/s, GB/s, us, ...), if the row has one. */
  rate?: number;
  unit?: string;
  /** Bytes moved per second as a fraction of a plain buffer copy's (same adapter, similar size). */
  ofCopy?: number;
  /** A target from the issue, stated in words, and whether this run met it. */
  target?: string;
  met?: boolean;
  /** Anything else worth knowing (variant chosen, spread of the repetitions). */
  note?: string;
}

export interface BenchSection {
  name: string;
  run(): Promise<BenchRow[]>;
}

export interface Timing {
  /** Median ms per call of `fn`. */
  median: number;
  /** Fastest and slowest repetition, ms per call. */
  min: number;
  max: number;
  reps: number;
}

export interface TimeOptions {
  /** Untimed calls first (compile pipelines, fill the pool). Default 2. */
  warmup?: number;
  /** Timed repetitions; the median is reported. Default 7. */
  reps?: number;
  /** Calls per repetition, enqueued back to back before one sync(); for short operations. Default 1. */
  inner?: number;
}

/**
 * Times `fn`, which enqueues GPU work (its returned tensors are computed if pending, then disposed). Each repetition runs
 * `inner` calls and then waits for the GPU with sync(); the per-call median is reported.
 */
export async function time(fn: () => Tensor | Tensor[] | void, opts: TimeOptions = {}): Promise<Timing> {
  return (await timeTogether([fn], opts))[0]!;
}

/**
 * Times several operations in alternation (a repetition of each in turn, `reps` times), so that
 * load from other processes falls on all of them alike; for comparisons such as an op against a
 * copy. Same options and result as `time`, one Timing per function.
 */
export async function timeTogether(fns: (() => Tensor | Tensor[] | void)[], opts: TimeOptions = {}): Promise<Timing[]> {
  const warmup = opts.warmup ?? 2;
  const reps = opts.reps ?? 7;
  const inner = opts.inner ?? 1;
  // The results are returned from tidy(), which computes pending (lazy) ones before freeing them:
  // an op's work is timed even when nothing reads its value.
  const once = (fn: () => unknown) => dispose(tidy(() => fn()));
  for (const fn of fns) {
    for (let i = 0; i < warmup; i++) {
      for (let j = 0; j < inner; j++) once(fn);
      await sync();
    }
  }
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < reps; r++) {
    for (let f = 0; f < fns.length; f++) {
      await sync();
      const t0 = performance.now();
      for (let j = 0; j < inner; j++) once(fns[f]!);
      await sync();
      samples[f]!.push((performance.now() - t0) / inner);
    }
  }
  return samples.map((s) => {
    s.sort((a, b) => a - b);
    return { median: median(s), min: s[0]!, max: s[s.length - 1]!, reps };
  });
}

/** A plain buffer-to-buffer copy of `bytes` bytes, as a function for `time`/`timeTogether`. */
export function copier(bytes: number): { run: () => void; free: () => void } {
  const e = engine();
  const src = e.acquireBuffer(bytes);
  const dst = e.acquireBuffer(bytes);
  const n = Math.ceil(bytes / 4) * 4;
  return {
    run: () => e.copy(src, 0, dst, 0, n),
    free: () => {
      e.releaseBuffer(src);
      e.releaseBuffer(dst);
    },
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Spread of a timing as a short note: "min-max ms over N reps". */
export function spread(t: Timing): string {
  return `${fmt(t.min)}-${fmt(t.max)} ms over ${t.reps}`;
}

/** Bytes a copy moves per second (read + write), in GB/s. */
export function copyGBps(bytes: number, t: Timing): number {
  return (2 * bytes) / (t.median * 1e6);
}

export function fmt(v: number | undefined, digits = 3): string {
  if (v === undefined || Number.isNaN(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  return v.toPrecision(digits);
}

/** The rows as a fixed-width text table. */
export function table(rows: readonly BenchRow[]): string {
  const head = ['name', 'ms', 'rate', 'unit', 'of copy', 'target', 'met', 'note'];
  const body = rows.map((r) => [
    r.name,
    fmt(r.ms),
    fmt(r.rate),
    r.unit ?? '',
    r.ofCopy === undefined ? '' : `${(100 * r.ofCopy).toFixed(0)}%`,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
    r.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i >= 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
