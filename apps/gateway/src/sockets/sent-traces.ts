import type { Platform } from '@herald/contracts';
import type { Logger } from '@herald/runtime';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { traceField } from '@herald/trace';

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
 * A live push is recorded in its router batch's trace hash (the live message names it), and the
 * records of one event-loop turn go out as one HSET per hash: a live message of 100 pushes costs
 * one write, not 100. A notification sent from history (replay, gap) goes to the event's own
 * trace hash. Best effort: a failed write is logged, never thrown.
 */
export class SentTraces {
  private pending = new Map<string, (string | number)[]>();
  private scheduled = false;
  /** The time of this event-loop turn's records (one clock read a turn, not one a push). */
  private at = 0;

  constructor(private readonly options: SentTracesOptions) {}

  /** Sent live: `<eventId>:s:<deviceId>` → epoch ms in the router batch's trace hash. */
  live(traceKey: string, eventId: string, deviceId: string): void {
    this.add(traceKey, traceField.sent(eventId, deviceId));
  }

  /** Sent from history: `sent:<platform>:<deviceId>` → epoch ms in the event's trace hash. */
  fromHistory(eventId: string, platform: Platform, deviceId: string): void {
    this.add(this.options.keys.trace(eventId), `sent:${platform}:${deviceId}`);
  }

  private add(key: string, field: string): void {
    if (this.options.ttlMs === 0) return;
    if (!this.scheduled) {
      this.scheduled = true;
      this.at = this.options.now();
      setImmediate(() => this.flush());
    }
    let fields = this.pending.get(key);
    if (fields === undefined) this.pending.set(key, (fields = []));
    fields.push(field, this.at);
  }

  private flush(): void {
    this.scheduled = false;
    const { redis, ttlMs, logger } = this.options;
    const pending = this.pending;
    this.pending = new Map();
    for (const [key, fields] of pending) {
      // Two commands, not a transaction: the TTL only has to be set by one of the writers.
      Promise.all([redis.hset(key, ...fields), redis.pexpire(key, ttlMs, 'NX')]).catch((error: unknown) =>
        logger.warn({ err: error, key }, 'could not trace notifications sent'),
      );
    }
  }
}
