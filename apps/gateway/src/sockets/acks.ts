import type { Platform } from '@herald/contracts';
import type { Logger } from '@herald/observability';
import { RedisScript } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';

const advanceAck = RedisScript.fromFile(new URL('../../lua/', import.meta.url), 'advance-ack-1');

export interface AckRecorderOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  /** Lifetime of the per-account hash of acknowledged cursors, refreshed on each ack. */
  ackRetentionMs: number;
  /** Lifetime of an event trace key when the gateway is the first to write it; 0: tracing is off. */
  traceTtlMs: number;
  now: () => number;
  logger: Logger;
}

/**
 * Writes what the gateway did for a device to Redis: the device's last acknowledged cursor, and
 * in the event's trace each notification sent and each acknowledged.
 */
export class AckRecorder {
  constructor(private readonly options: AckRecorderOptions) {}

  /** Moves the device's acknowledged cursor forward (never back). True when it moved. */
  async advance(accountId: string, deviceId: string, cursor: string): Promise<boolean> {
    const { redis, keys, ackRetentionMs } = this.options;
    return (await advanceAck.run(redis, [keys.deviceAcks(accountId)], [deviceId, cursor, ackRetentionMs])) === 1;
  }

  /** `ack:<deviceId>` → epoch ms in the event's trace. A trace key that had no TTL gets one. */
  async trace(eventId: string, deviceId: string): Promise<void> {
    await this.traceField(eventId, `ack:${deviceId}`);
  }

  /**
   * `sent:<platform>:<deviceId>` → epoch ms in the event's trace: the notification went out on
   * a socket of the device (live, or read from history). What the trace lists as pushes to web
   * and TV devices. Best effort: a failure is logged, never thrown.
   */
  traceSent(eventId: string, platform: Platform, deviceId: string): void {
    this.traceField(eventId, `sent:${platform}:${deviceId}`).catch((error: unknown) => this.options.logger.warn({ err: error, eventId, deviceId }, 'could not trace a notification sent'));
  }

  private async traceField(eventId: string, field: string): Promise<void> {
    const { redis, keys, traceTtlMs, now } = this.options;
    if (traceTtlMs === 0) return;
    const key = keys.trace(eventId);
    // Two commands, not a transaction: the TTL only has to be set by one of the writers.
    await Promise.all([redis.hset(key, field, now()), redis.pexpire(key, traceTtlMs, 'NX')]);
  }
}
