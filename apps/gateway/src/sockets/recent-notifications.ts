/**
 * The last few notifications sent on one connection, cursor → event id, oldest evicted first:
 * maps an acknowledged cursor to its event (for the trace) and spots a push sent twice (a
 * delivery job retried). Bounded by `capacity`.
 */
export class RecentNotifications {
  private readonly byCursor = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  has(cursor: string): boolean {
    return this.byCursor.has(cursor);
  }

  eventIdOf(cursor: string): string | undefined {
    return this.byCursor.get(cursor);
  }

  remember(cursor: string, eventId: string): void {
    this.byCursor.set(cursor, eventId);
    if (this.byCursor.size > this.capacity) {
      const oldest = this.byCursor.keys().next();
      if (oldest.done !== true) this.byCursor.delete(oldest.value);
    }
  }
}
