// Stopping a long run cleanly. The command turns a first Ctrl-C (SIGINT) into an abort signal
// that reaches the experiment through its RunContext (`context.signal`); the experiment checks it
// at safe points (after a hyper-iteration, see ./loop.ts), saves its state and throws
// RunInterrupted, whose message is the command line that resumes the run; the command prints it
// and exits with code 130 (128 + SIGINT, the shell's convention). A second Ctrl-C exits at once.

/** Exit status of a run stopped by Ctrl-C (128 + SIGINT). */
export const INTERRUPTED_EXIT_CODE = 130;

/** Thrown by an experiment that saved its state and stopped because it was asked to. */
export class RunInterrupted extends Error {
  constructor(
    /** The folder holding the saved state. */
    readonly dir: string,
    /** The command line that continues the run. */
    readonly resumeCommand: string,
    /** Where the run stopped, e.g. 'K = 5 after 12 of 50 hyper-iterations'. */
    readonly where: string,
  ) {
    super(`interrupted (${where}); the state is saved in ${dir}. Continue the run with:\n  ${resumeCommand}`);
    this.name = 'RunInterrupted';
  }
}

/**
 * If `signal` was aborted: saves (await `save()`) and throws RunInterrupted. Call it where the
 * state on disk can describe the run exactly (between hyper-iterations, between trials).
 */
export async function stopIfRequested(
  signal: AbortSignal | undefined,
  save: () => void | Promise<void>,
  stop: { dir: string; resumeCommand: string; where: string },
): Promise<void> {
  if (!signal?.aborted) return;
  await save();
  throw new RunInterrupted(stop.dir, stop.resumeCommand, stop.where);
}

/**
 * Installs the command's SIGINT handling: the first Ctrl-C aborts the returned signal (and says
 * so through `log`), the second exits the process at once with code 130. `dispose` removes it.
 */
export function interruptOnSigint(log: (line: string) => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) {
      process.stderr.write('\nhypertape: interrupted again; exiting without saving.\n');
      process.exit(INTERRUPTED_EXIT_CODE);
    }
    log('\nInterrupt: saving the state after the current hyper-iteration, then stopping (Ctrl-C again quits at once, without saving).');
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}
