/**
 * Runs `tick` every `intervalMs`, one at a time: the next waits for the previous to finish,
 * and a tick asked for by hand (`tick()`, tests) queues behind a running one. The timer does not
 * keep the process alive. `stop` ends the ticking once the running tick is done.
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  get stopped(): boolean {
    return this.stopping;
  }

  /** Starts ticking, the first tick at once (again: nothing). */
  start(): void {
    if (this.timer === undefined && !this.stopping) this.schedule(0);
  }

  /** Runs one tick now, after any running one. */
  tick(): Promise<void> {
    this.ticking = this.ticking.then(() => (this.stopping ? undefined : this.run()));
    return this.ticking;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.ticking;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      void this.tick().finally(() => {
        if (!this.stopping) this.schedule(this.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }
}
