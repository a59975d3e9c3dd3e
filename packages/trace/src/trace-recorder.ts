import type { Platform, TapRecord } from '@herald/contracts';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { TraceBuckets } from './trace-buckets.js';
import { TAP_MAX_ENTRIES, TAP_RECORDS_PER_BATCH, encodeRoutingRecord, traceField } from './trace-records.js';
import type { EventDelivery } from './trace-records.js';

/**
 * The writing side of traces for the worker: the router's records (as arguments for its
 * acknowledgement script, so they land atomically with the ack), the live tap, and the
 * delivery workers' pushes and failures.
 */
export class TraceRecorder {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyBuilder,
    readonly buckets: TraceBuckets,
  ) {}

  /**
   * `[field, value, ...]` of the router's records, for one HSET (empty when tracing is off);
   * `deliveries` has the routed events that went into delivery jobs.
   */
  routingFields(records: readonly TapRecord[], deliveries: ReadonlyMap<string, EventDelivery> = new Map()): string[] {
    if (!this.buckets.enabled) return [];
    const fields: string[] = [];
    for (const record of records) fields.push(traceField.routed(record.id), encodeRoutingRecord(record, deliveries.get(record.id)));
    return fields;
  }

  /** Adds a router batch's records to the live tap (sampled: the first TAP_RECORDS_PER_BATCH); off with tracing. */
  async publishTap(records: readonly TapRecord[]): Promise<void> {
    if (!this.buckets.enabled || records.length === 0) return;
    await this.redis.xadd(this.keys.tap, 'MAXLEN', '~', TAP_MAX_ENTRIES, '*', 'r', JSON.stringify(records.slice(0, TAP_RECORDS_PER_BATCH)));
  }

  /** A router batch's delivery job of `platform` was made at `at` (one field for all its events). */
  async recordPushes(traceKey: string, platform: Platform, batch: string, at: number): Promise<void> {
    if (!this.buckets.enabled) return;
    await this.redis.multi().hset(traceKey, traceField.jobPushed(batch, platform), JSON.stringify({ at })).pexpire(traceKey, this.buckets.ttlMs).exec();
  }

  /** A router batch's delivery job of `platform` failed for good (its last attempt). */
  async recordFailure(traceKey: string, platform: Platform, batch: string, error: string, at: number): Promise<void> {
    if (!this.buckets.enabled) return;
    const value = JSON.stringify({ at, e: error.slice(0, 500) });
    await this.redis.multi().hset(traceKey, traceField.jobFailed(batch, platform), value).pexpire(traceKey, this.buckets.ttlMs).exec();
  }
}
