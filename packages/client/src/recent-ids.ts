/**
 * The event ids seen lately, at most `capacity` of them (the oldest are forgotten first). A
 * duplicate comes soon after its original (a retried delivery job, a replay overlapping a live
 * push), so a bounded window catches them without the memory growing with the session.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('the duplicate window must hold at least one id');
  }

  /** Remembers `id`; false when it was already remembered (a duplicate). */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      // A Set iterates in insertion order: the first value is the oldest.
      const oldest = this.ids.values().next();
      if (oldest.done !== true) this.ids.delete(oldest.value);
    }
    return true;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
