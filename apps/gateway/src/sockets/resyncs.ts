import { compareCursors } from '@herald/history';

/**
 * Connections waiting to resync from history, each from the earliest cursor asked for, run a
 * few at a time: a subscription lost for a moment concerns every connection on the node, and
 * each resync reads its account's history.
 */
export class Resyncs {
  private readonly waiting = new Map<string, string>();
  private running = 0;

  constructor(
    private readonly resync: (socketId: string, after: string) => Promise<void>,
    private readonly concurrency: number,
  ) {}

  /**
   * Resyncs the connection `socketId` from after `after` (or from earlier, if asked so before it
   * starts). Returns false when it was waiting already (the two requests are one resync).
   */
  request(socketId: string, after: string): boolean {
    const known = this.waiting.get(socketId);
    if (known === undefined || compareCursors(after, known) < 0) this.waiting.set(socketId, after);
    this.pump();
    return known === undefined;
  }

  private pump(): void {
    while (this.running < this.concurrency) {
      const next = this.waiting.entries().next();
      if (next.done === true) return;
      const [socketId, after] = next.value;
      this.waiting.delete(socketId);
      this.running++;
      void this.resync(socketId, after).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }
}
