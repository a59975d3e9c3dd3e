/**
 * The last few notifications sent on one connection, cursor → event id, oldest evicted first:
 * maps an acknowledged cursor to its event, for the event's trace. Only that: what a connection
 * has delivered is its exact cursor, not this memory. Bounded by `capacity`.
 */
export class RecentNotifications {
  private readonly byCursor = new Map<string, string>();

  constructor(private readonly capacity: number) {}

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
