import type { Priority } from '@herald/contracts';
import type { KeyBuilder } from '@herald/redis';

/**
 * Where traces live: one hash per (priority, partition, time bucket), so a router batch writes
 * the traces of all its events with one HSET on its own partition's slot, and old traces go
 * with their bucket's key (no per-event keys, no per-event expiry). Buckets are a sixth of the
 * window wide (at least a minute); a bucket's key lives a window past its last write.
 *
 * Writers pick the bucket from their own clock; readers look through every bucket of the
 * window, so a write that lands in a neighbouring bucket (a clock edge) is still found.
 */
export class TraceBuckets {
  readonly widthMs: number;

  constructor(
    private readonly keys: KeyBuilder,
    /** How long traces are kept; 0 turns tracing off. */
    readonly windowMs: number,
  ) {
    if (!Number.isInteger(windowMs) || windowMs < 0) throw new RangeError('trace windowMs must be a non-negative integer');
    this.widthMs = Math.max(60_000, Math.ceil(windowMs / 6));
  }

  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /** Time to live of a bucket's key, refreshed on each write. */
  get ttlMs(): number {
    return this.windowMs + this.widthMs;
  }

  bucketOf(atMs: number): number {
    return Math.floor(atMs / this.widthMs);
  }

  key(priority: Priority, partition: number, atMs: number): string {
    return this.keys.traces(priority, partition, this.bucketOf(atMs));
  }

  /** The buckets a reader looks through at `nowMs`, newest first. */
  bucketsToRead(nowMs: number): number[] {
    const newest = this.bucketOf(nowMs) + 1;
    const oldest = this.bucketOf(nowMs - this.ttlMs);
    const buckets: number[] = [];
    for (let bucket = newest; bucket >= oldest; bucket--) buckets.push(bucket);
    return buckets;
  }
}
