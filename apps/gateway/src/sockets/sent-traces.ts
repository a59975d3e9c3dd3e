import type { Platform } from '@herald/contracts';
import type { Logger } from '@herald/runtime';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { LiveSentBatch } from '@herald/trace';
import type { LivePushTrace } from './live-feed.js';

export interface SentTracesOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  /** How long a trace hash lives when the gateway is the first to write it; 0: tracing is off. */
  ttlMs: number;
  now: () => number;
  logger: Logger;
}

/**
 * Records in the events' traces each notification this node sent to a web or TV device, so a
 * trace lists as pushes what reached a socket (a push dropped as a duplicate writes nothing).
 * A live push is recorded in its live message's field of the router batch's trace hash (the
 * message names it), and the records of one event-loop turn go out as one write per hash: a
 * live message of 100 pushes costs one short append, not 100 fields. A notification sent from
 * history (replay, gap) goes to the event's own trace hash. Best effort: a failed write is
 * logged, never thrown.
 */
export class SentTraces {
  private liveSends = new LiveSentBatch();
  /** Event trace hash → its `sent:<platform>:<device>` fields and times. */
  private historySends = new Map<string, (string | number)[]>();
  private scheduled = false;
  /** The time of this event-loop turn's records (one clock read a turn, not one a push). */
  private at = 0;

  constructor(private readonly options: SentTracesOptions) {}

  /** Sent live: the push `trace.index` of its message, to the device `device` of its `deviceIds`. */
  live(trace: LivePushTrace, device: number): void {
    if (!this.schedule()) return;
    this.liveSends.add(trace.trace, trace.index, device);
  }

  /** Sent from history: `sent:<platform>:<deviceId>` → epoch ms in the event's trace hash. */
  fromHistory(eventId: string, platform: Platform, deviceId: string): void {
    if (!this.schedule()) return;
    const key = this.options.keys.trace(eventId);
    let fields = this.historySends.get(key);
    if (fields === undefined) this.historySends.set(key, (fields = []));
    fields.push(`sent:${platform}:${deviceId}`, this.at);
  }

  /** Whether tracing is on; schedules this turn's flush. */
  private schedule(): boolean {
    if (this.options.ttlMs === 0) return false;
    if (!this.scheduled) {
      this.scheduled = true;
      this.at = this.options.now();
      setImmediate(() => this.flush());
    }
    return true;
  }

  private flush(): void {
    this.scheduled = false;
    const { redis, ttlMs, logger } = this.options;
    const live = this.liveSends;
    const fromHistory = this.historySends;
    this.liveSends = new LiveSentBatch();
    this.historySends = new Map();
    const writes = live.write(redis, this.at, ttlMs);
    // Two commands, not a transaction: the TTL only has to be set by one of the writers.
    for (const [key, fields] of fromHistory) writes.push(redis.hset(key, ...fields), redis.pexpire(key, ttlMs, 'NX'));
    for (const write of writes) write.catch((error: unknown) => logger.warn({ err: error }, 'could not trace notifications sent'));
  }
}
