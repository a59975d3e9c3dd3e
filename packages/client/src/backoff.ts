/**
 * Exponential backoff with jitter, the same shape socket.io-client uses for reconnection, so
 * the device client, the poller and the publisher back off alike: attempt `n` waits
 * `min(maxDelayMs, initialDelayMs × 2ⁿ)` multiplied by a random factor in `1 ± randomizationFactor`
 * (and capped again). The jitter spreads the retries of many clients that failed together (a
 * gateway deploy, an ingest restart) instead of bringing them back in waves.
 */
export interface BackoffOptions {
  /** The first delay (default 1000 ms). */
  initialDelayMs?: number;
  /** The largest delay (default 30000 ms). */
  maxDelayMs?: number;
  /** 0..1 (default 0.5); keep it at 0.5 or more where many clients retry at once. */
  randomizationFactor?: number;
}

export type ResolvedBackoff = Required<BackoffOptions>;

export const DEFAULT_BACKOFF: ResolvedBackoff = { initialDelayMs: 1000, maxDelayMs: 30_000, randomizationFactor: 0.5 };

/** Defaults merged in and checked; throws a RangeError on nonsense. */
export function resolveBackoff(options: BackoffOptions = {}): ResolvedBackoff {
  const resolved = { ...DEFAULT_BACKOFF, ...definedOnly(options) };
  const { initialDelayMs, maxDelayMs, randomizationFactor } = resolved;
  if (!(Number.isFinite(initialDelayMs) && initialDelayMs > 0)) throw new RangeError('backoff.initialDelayMs must be a positive number');
  if (!(Number.isFinite(maxDelayMs) && maxDelayMs >= initialDelayMs)) throw new RangeError('backoff.maxDelayMs must be at least initialDelayMs');
  if (!(randomizationFactor >= 0 && randomizationFactor <= 1)) throw new RangeError('backoff.randomizationFactor must be between 0 and 1');
  return resolved;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, backoff: ResolvedBackoff, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** Math.min(attempt, 52));
  const jitter = base * backoff.randomizationFactor * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(backoff.maxDelayMs, base + jitter)));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
