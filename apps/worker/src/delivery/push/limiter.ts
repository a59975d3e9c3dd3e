import { PRIORITIES } from '@herald/contracts';
import type { Priority } from '@herald/contracts';

/**
 * Bounds the requests a push provider has in flight. A freed slot goes to the highest priority
 * waiting, so a flood of low-priority signals queued at a slow provider does not hold up a
 * high-priority one behind it.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: Record<Priority, (() => void)[]> = { high: [], medium: [], low: [] };

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`a limiter needs a positive integer bound, not ${max}`);
  }

  async run<T>(priority: Priority, task: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    // The releaser hands its slot straight over, so `active` stays as it is.
    else await new Promise<void>((resolve) => this.waiting[priority].push(resolve));
    try {
      return await task();
    } finally {
      const next = PRIORITIES.map((p) => this.waiting[p])
        .find((queue) => queue.length > 0)
        ?.shift();
      if (next === undefined) this.active--;
      else next();
    }
  }
}
