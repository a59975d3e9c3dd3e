import type { Notification } from '@herald/contracts';
import type { CursorStorage } from './cursor-storage.js';
import { compareCursors, validCursor } from './cursors.js';
import { HeraldClientError } from './errors.js';
import { RecentIds } from './recent-ids.js';

export interface InboxOptions {
  storage: CursorStorage;
  key: string;
  /** How many recent event ids are remembered to drop duplicates. */
  dedupeCapacity: number;
  onError: (error: HeraldClientError) => void;
}

/**
 * What a device has processed: the cursor it resumes from (loaded from and saved to the
 * storage) and the recent event ids (duplicates are dropped). Shared by the socket client and
 * the poller, so both resume and deduplicate the same way.
 *
 * The cursor only moves forward, except on a reset. Saves are coalesced: with an async storage,
 * at most one write is in flight and the next one writes the newest cursor.
 */
export class Inbox {
  private current: string | undefined;
  private saved: string | undefined;
  private readonly seen: RecentIds;
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(private readonly options: InboxOptions) {
    this.seen = new RecentIds(options.dedupeCapacity);
  }

  get cursor(): string | undefined {
    return this.current;
  }

  /** Reads the stored cursor; a missing, malformed or unreadable one means "start from now". */
  async load(): Promise<void> {
    try {
      const stored = validCursor(await this.options.storage.get(this.options.key));
      this.saved = stored;
      if (stored !== undefined && (this.current === undefined || compareCursors(stored, this.current) > 0)) this.current = stored;
    } catch (error) {
      this.options.onError(new HeraldClientError('storage_error', 'Reading the stored cursor failed; starting from now.', { cause: error }));
    }
  }

  /** Records a notification; false when its event id was seen lately (drop it). */
  accept(notification: Notification): boolean {
    this.advance(notification.cursor);
    return this.seen.add(notification.id);
  }

  /** Moves the cursor forward to `cursor` (never back). */
  advance(cursor: string | null | undefined): void {
    if (cursor === null || cursor === undefined) return;
    if (this.current === undefined || compareCursors(cursor, this.current) > 0) this.current = cursor;
  }

  /** After a reset: the server's newest cursor replaces ours, even if ours looked newer. */
  resetTo(cursor: string | null): void {
    this.current = cursor ?? undefined;
  }

  /** Saves the cursor in the background; errors go to `onError`. */
  save(): void {
    this.dirty = true;
    // Started on a later tick, so `writing` is set before the write can finish and clear it.
    this.writing ??= Promise.resolve().then(() => this.write());
  }

  /** Resolves when the last save has landed. */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async write(): Promise<void> {
    const { storage, key, onError } = this.options;
    try {
      while (this.dirty) {
        this.dirty = false;
        const cursor = this.current;
        if (cursor === this.saved) continue;
        if (cursor === undefined) await storage.remove?.(key);
        else await storage.set(key, cursor);
        this.saved = cursor;
      }
    } catch (error) {
      onError(new HeraldClientError('storage_error', 'Saving the cursor failed.', { cause: error }));
    } finally {
      this.writing = undefined;
    }
  }
}
