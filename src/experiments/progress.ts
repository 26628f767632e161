// Progress on long work: a bar redrawn in place on a terminal; sparse plain lines (every tenth of
// the work or a minute, at most one per few seconds, and the last) when output goes to a file
// or a pipe, so logs stay readable.

/** The longest a plain (non-terminal) progress log stays silent while work goes on. */
const QUIET_LIMIT_MS = 60_000;

export interface Progress {
  /** Marks `n` more units done; `note` is shown next to the bar (e.g. the current loss). */
  tick(n?: number, note?: string): void;
  /** Marks the work finished (prints the final state once). */
  done(note?: string): void;
}

export interface ConsoleOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Overrides the stream's own isTTY. */
  tty?: boolean;
  /** Prints nothing (tests). */
  quiet?: boolean;
  /** Minimum seconds between plain progress lines. */
  plainIntervalS?: number;
}

/** A line printer and progress displays that share one output stream. */
export interface Console {
  log(line: string): void;
  /** A progress bar over `total` units, `already` of them done before (counted, not used for the time left). */
  progress(label: string, total: number, already?: number): Progress;
}

/** 59.6 -> "1m00s", 3725 -> "1h02m". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const total = Math.round(s);
  if (total < 60) return `${total}s`;
  const m = Math.floor(total / 60);
  return m < 60 ? `${m}m${String(total % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function createConsole(options: ConsoleOptions = {}): Console {
  const stream = options.stream ?? process.stdout;
  const tty = options.tty ?? !!stream.isTTY;
  const quiet = !!options.quiet;
  const plainIntervalMs = (options.plainIntervalS ?? 5) * 1000;
  // The bar currently drawn on the last line, if any; log() clears it and redraws it after.
  let activeBar: (() => string) | null = null;

  const write = (s: string) => {
    if (!quiet) stream.write(s);
  };

  function log(line: string): void {
    if (tty && activeBar) write(`\r\x1b[K${line}\n${activeBar()}`);
    else write(line + '\n');
  }

  function progress(label: string, total: number, already = 0): Progress {
    const start = Date.now();
    let done = already;
    let note = '';
    let lastDraw = 0;
    let lastPlainTenth = -1;
    let lastPlainAt = 0;
    let finished = false;

    const status = () => {
      const elapsed = (Date.now() - start) / 1000;
      // The rate counts only this session's work: units done before a resume took no time here.
      const left = done > already && done < total ? (elapsed / (done - already)) * (total - done) : NaN;
      const time = done >= total ? `${formatSeconds(elapsed)}` : `${formatSeconds(elapsed)} elapsed, ${formatSeconds(left)} left`;
      return `${done}/${total} ${time}${note ? `  ${note}` : ''}`;
    };
    const bar = () => {
      const columns = stream.columns ?? 80;
      const width = Math.max(10, Math.min(30, columns - label.length - 50));
      const filled = total > 0 ? Math.round((width * Math.min(done, total)) / total) : width;
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${status()}`;
      return line.length > columns - 1 ? line.slice(0, columns - 1) : line;
    };

    const draw = (force: boolean) => {
      const now = Date.now();
      if (tty) {
        if (!force && now - lastDraw < 100) return;
        lastDraw = now;
        activeBar = bar;
        write(`\r\x1b[K${bar()}`);
      } else {
        const tenth = total > 0 ? Math.floor((10 * done) / total) : 10;
        const finalShown = force && lastPlainTenth === 10 && done >= total;
        // A line per tenth of the work, and one per minute when a tenth takes longer (a run of
        // hours must not look stalled in its log).
        const due = (tenth > lastPlainTenth && now - lastPlainAt >= plainIntervalMs) || now - lastPlainAt >= QUIET_LIMIT_MS;
        if (!finalShown && (force || due)) {
          lastPlainTenth = tenth;
          lastPlainAt = now;
          write(`${label}: ${status()}\n`);
        }
      }
    };

    if (tty) draw(true);
    else {
      lastPlainAt = Date.now();
      lastPlainTenth = total > 0 ? Math.floor((10 * done) / total) : 0;
      write(`${label}: ${done}/${total}\n`);
    }

    return {
      tick(n = 1, newNote?: string) {
        if (finished) return;
        done += n;
        if (newNote !== undefined) note = newNote;
        draw(false);
      },
      done(newNote?: string) {
        if (finished) return;
        finished = true;
        done = Math.max(done, total);
        if (newNote !== undefined) note = newNote;
        draw(true);
        if (tty) {
          write('\n');
          activeBar = null;
        }
      },
    };
  }

  return { log, progress };
}
