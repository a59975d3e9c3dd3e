/**
 * Connections waiting to read history because this node lost live pushes for them, run a few
 * at a time: a live stream the node can no longer read concerns every connection on it, and
 * each resync reads its account's history.
 */
export class Resyncs {
  private readonly waiting = new Set<string>();
  private running = 0;

  constructor(
    private readonly resync: (socketId: string) => Promise<void>,
    private readonly concurrency: number,
  ) {}

  /** Resyncs the connection `socketId`. Returns false when it was waiting already (the two requests are one resync). */
  request(socketId: string): boolean {
    if (this.waiting.has(socketId)) return false;
    this.waiting.add(socketId);
    this.pump();
    return true;
  }

  private pump(): void {
    while (this.running < this.concurrency) {
      const next = this.waiting.values().next();
      if (next.done === true) return;
      const socketId = next.value;
      this.waiting.delete(socketId);
      this.running++;
      void this.resync(socketId).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }
}
