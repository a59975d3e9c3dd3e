/**
 * A counting semaphore: at most `size` tasks run at once, the rest wait their turn. `limit`, when
 * given, lowers that bound as it changes (load shedding shrinks a yielding priority's
 * concurrency): it is read at each start and each finish, never above `size`, never below 1.
 */
export class Slots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly size: number,
    private readonly limit?: () => number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('concurrency must be a positive integer');
  }

  private get bound(): number {
    return this.limit === undefined ? this.size : Math.max(1, Math.min(this.size, this.limit()));
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.bound && this.waiting.length === 0) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      this.running--;
      // Hand the freed slots on (more than one when the limit rose meanwhile).
      while (this.waiting.length > 0 && this.running < this.bound) {
        this.running++;
        this.waiting.shift()!();
      }
    }
  }
}
