import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** How long to keep trying (default 5000 ms). */
  timeoutMs?: number;
  /** Pause between tries (default 20 ms). */
  intervalMs?: number;
}

/**
 * Polls `check` until it passes, and resolves with what it returned. A check passes when it
 * neither throws nor returns `false`: a predicate that holds, chai assertions that hold, or the
 * value awaited (return `false` for "not yet"). After `timeoutMs` it rejects with an error naming
 * `what` was awaited and the last failure seen (the assertion's message, or the value).
 *
 *   await waitFor('the socket to disconnect', () => !socket.connected);
 *   await waitFor('one job to complete', async () => expect(await queue.getCompletedCount()).to.equal(1));
 *   const trace = await waitFor('the trace', async () => (await read()) ?? false, { timeoutMs: 10_000 });
 *
 * The one polling helper of the test suites: waiting for something that must happen. To show
 * that something does NOT happen, wait for a marker sent after it on the same ordered path.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, options: WaitForOptions = {}): Promise<Exclude<Awaited<T>, false>> {
  const { timeoutMs = 5000, intervalMs = 20 } = options;
  if (!(timeoutMs >= 0) || !(intervalMs >= 0)) throw new RangeError('timeoutMs and intervalMs must not be negative');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: { error: unknown } | { value: false };
    try {
      const value = await check();
      if (value !== false) return value as Exclude<Awaited<T>, false>;
      last = { value: false };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) {
      const seen = 'error' in last ? `last error: ${last.error instanceof Error ? last.error.message : String(last.error)}` : 'the check still returned false';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${seen})`, 'error' in last ? { cause: last.error } : undefined);
    }
    await sleep(intervalMs);
  }
}
