import type { Priority } from '@herald/contracts';
import { RedisScript, RedisTimeBuckets, serverOf } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { compareCursors, cursorTime } from './cursor.js';
import { HistoryEntrySchema } from './history-entry.js';
import type { HistoryEntry } from './history-entry.js';

const appendHistory = RedisScript.fromFile(new URL('../lua/', import.meta.url), 'append-history-4');

export interface HistoryOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  /** Most notifications one account's history keeps (default 1000). */
  maxLength?: number;
  /** How long a notification is kept (default 7 days). */
  retentionMs?: number;
  /** How long an appended event id is remembered against appending it again (default 1 h). */
  dedupWindowMs?: number;
}

export interface HistoryRecord {
  cursor: string;
  entry: HistoryEntry;
}

export interface AppendOutcome {
  cursor: string;
  /** False when the history had already taken this event (a retry): nothing was written. */
  appended: boolean;
  /**
   * For an entry appended now: the cursor of the entry just before it in the account's history
   * (null: none). Undefined for a retry (not known). Live pushes carry it, so a gateway sees at
   * once whether it delivered a device everything before the push.
   */
  prev?: string | null;
}

/**
 * Per-account notification history in Redis streams: appended to by the worker (idempotent
 * per event id), read by the gateway for replay and pull. Entry ids are the cursors.
 */
export class History {
  readonly maxLength: number;
  readonly retentionMs: number;
  private readonly buckets: RedisTimeBuckets;

  constructor(private readonly options: HistoryOptions) {
    this.maxLength = options.maxLength ?? 1000;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3600 * 1000;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 1) throw new RangeError('maxLength must be a positive integer');
    if (!(this.retentionMs > 0)) throw new RangeError('retentionMs must be positive');
    this.buckets = new RedisTimeBuckets(options.dedupWindowMs ?? 3_600_000);
  }

  /**
   * Appends one account's notifications in order; one outcome per entry. Waiting long-polls are
   * woken by the caller (`announce`), once per batch of accounts.
   */
  async append(accountId: string, entries: readonly HistoryEntry[]): Promise<AppendOutcome[]> {
    if (entries.length === 0) return [];
    const { redis, keys } = this.options;
    const args: string[] = [];
    for (const entry of entries) {
      if (entry.accountId !== accountId) throw new Error(`history of ${accountId} cannot take an event of ${entry.accountId}`);
      args.push(entry.id, JSON.stringify(entry));
    }
    const reply = await this.buckets.run(
      serverOf(redis, keys.history(accountId)),
      async (bucket) =>
        (await appendHistory.run(
          redis,
          [keys.history(accountId), keys.historyIds(accountId, bucket), keys.historyIds(accountId, bucket - 1), keys.historyTrimmed(accountId)],
          [this.buckets.windowMs, bucket, this.maxLength, this.retentionMs, ...args],
        )) as (string | number)[],
    );
    return entries.map((_, i) => {
      const cursor = String(reply[3 * i]);
      if (reply[3 * i + 1] !== 1) return { cursor, appended: false };
      const prev = String(reply[3 * i + 2]);
      return { cursor, appended: true, prev: prev === '' ? null : prev };
    });
  }

  /**
   * Wakes the long-polls on these accounts, whose histories a router batch of this partition
   * grew: one message on the partition's shard channel (SPUBLISH), which every gateway node
   * follows. Best effort: a poll not woken answers at its timeout.
   */
  async announce(priority: Priority, partition: number, accountIds: readonly string[]): Promise<void> {
    if (accountIds.length === 0) return;
    await this.options.redis.spublish(this.options.keys.historyAppended(priority, partition), JSON.stringify(accountIds));
  }

  /** Up to `count` records after `after` (exclusive; from the oldest when absent), oldest first. */
  async range(accountId: string, after: string | undefined, count: number): Promise<HistoryRecord[]> {
    const start = after === undefined ? '-' : `(${after}`;
    const raw = await this.options.redis.xrange(this.options.keys.history(accountId), start, '+', 'COUNT', count);
    return raw.map(([cursor, fields]) => ({ cursor, entry: HistoryEntrySchema.parse(JSON.parse(fieldValue(fields, 'e'))) }));
  }

  /** The newest cursor of an account's history, or undefined when it holds nothing. */
  async latestCursor(accountId: string): Promise<string | undefined> {
    const [last] = await this.options.redis.xrevrange(this.options.keys.history(accountId), '+', '-', 'COUNT', 1);
    return last?.[0];
  }

  /**
   * Whether notifications after `cursor` may have been trimmed away, so a device that last saw
   * `cursor` cannot be brought up to date from history and must refresh in full.
   */
  async isTrimmedPast(accountId: string, cursor: string): Promise<boolean> {
    const { redis, keys } = this.options;
    const trimmed = await redis.get(keys.historyTrimmed(accountId));
    if (trimmed !== null) return compareCursors(cursor, trimmed) < 0;
    // No history: it expired whole, `retentionMs` after its last append (or never existed).
    return cursorTime(cursor) < Date.now() - this.retentionMs;
  }
}

function fieldValue(fields: string[], name: string): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] ?? '';
  throw new Error(`history entry has no field ${name}`);
}
