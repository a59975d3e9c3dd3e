import type { Priority } from '@herald/contracts';

/** An event ingest refuses: answer `overloaded` with this `Retry-After`. */
export interface ShedDecision {
  retryAfterSeconds: number;
}

/**
 * Turns shed fractions into per-event decisions, exactly and evenly: each priority carries the
 * fraction over from one event to the next (error diffusion), so at 0.25 every fourth event of
 * that priority is refused, not a random quarter, and the accepted rate follows the controller
 * without the noise a coin would add. High priority is never refused.
 */
export class ShedDecider {
  private readonly carry: Record<Priority, number> = { high: 0, medium: 0, low: 0 };

  /**
   * @param fractions the current shed fraction of each priority (read at each decision)
   * @param maxRetryAfterSeconds `Retry-After` of a fully shed priority; less while partly shed, at least 1
   */
  constructor(
    private readonly fractions: () => Readonly<Record<Priority, number>>,
    private readonly maxRetryAfterSeconds: number,
  ) {
    if (!(Number.isInteger(maxRetryAfterSeconds) && maxRetryAfterSeconds >= 1)) throw new RangeError('maxRetryAfterSeconds must be a positive integer');
  }

  /** Whether one event of `priority` is refused now; undefined: accept it. */
  decide(priority: Priority): ShedDecision | undefined {
    if (priority === 'high') return undefined;
    const fraction = this.fractions()[priority];
    if (!(fraction > 0)) {
      this.carry[priority] = 0;
      return undefined;
    }
    this.carry[priority] += fraction;
    if (this.carry[priority] < 1 - 1e-9) return undefined;
    this.carry[priority] -= 1;
    return { retryAfterSeconds: this.retryAfterSeconds(fraction) };
  }

  /** The more is shed, the longer clients are asked to wait: `ceil(fraction × max)`, at least 1 s. */
  retryAfterSeconds(fraction: number): number {
    return Math.max(1, Math.ceil(fraction * this.maxRetryAfterSeconds));
  }
}
