// Checking error messages: an Error must say what was wrong and where (file, entry, record).
import * as assert from 'uvu/assert';

/** Runs `fn` (sync or async) and checks that it throws an Error whose message holds every part. */
export async function rejectsWith(fn: () => unknown, ...parts: (string | RegExp)[]): Promise<void> {
  let msg: string | null = null;
  try {
    await fn();
  } catch (e) {
    msg = (e as Error).message;
  }
  if (msg === null) assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
  for (const p of parts) {
    if (typeof p === 'string' ? !msg!.includes(p) : !p.test(msg!)) assert.unreachable(`error "${msg}" lacks ${p}`);
  }
}
