import type { Platform, TapRecord } from '@herald/contracts';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { TraceBuckets } from './trace-buckets.js';
import { TAP_MAX_ENTRIES, TAP_RECORDS_PER_BATCH, toRoutingRecord, traceField } from './trace-records.js';

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

  /** `[field, value, ...]` of the router's records, for one HSET (empty when tracing is off). */
  routingFields(records: readonly TapRecord[]): string[] {
    if (!this.buckets.enabled) return [];
    return records.flatMap((record) => [traceField.routed(record.id), JSON.stringify(toRoutingRecord(record))]);
  }

  /** Adds a router batch's records to the live tap (sampled: the first TAP_RECORDS_PER_BATCH); off with tracing. */
  async publishTap(records: readonly TapRecord[]): Promise<void> {
    if (!this.buckets.enabled || records.length === 0) return;
    await this.redis.xadd(this.keys.tap, 'MAXLEN', '~', TAP_MAX_ENTRIES, '*', 'r', JSON.stringify(records.slice(0, TAP_RECORDS_PER_BATCH)));
  }

  /** Which devices a delivery job pushed each event to, at `at`. */
  async recordPushes(traceKey: string, platform: Platform, pushes: readonly { eventId: string; deviceIds: readonly string[] }[], at: number): Promise<void> {
    if (!this.buckets.enabled || pushes.length === 0) return;
    const args = pushes.flatMap(({ eventId, deviceIds }) => [traceField.pushed(eventId, platform), JSON.stringify({ at, d: deviceIds })]);
    await this.redis.multi().hset(traceKey, ...args).pexpire(traceKey, this.buckets.ttlMs).exec();
  }

  /** A delivery that failed for good (its last attempt), for each of its events. */
  async recordFailure(traceKey: string, platform: Platform, eventIds: readonly string[], error: string, at: number): Promise<void> {
    if (!this.buckets.enabled || eventIds.length === 0) return;
    const value = JSON.stringify({ at, e: error.slice(0, 500) });
    const args = eventIds.flatMap((eventId) => [traceField.failed(eventId, platform), value]);
    await this.redis.multi().hset(traceKey, ...args).pexpire(traceKey, this.buckets.ttlMs).exec();
  }
}
