import { RedisScript } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';

const advanceAck = RedisScript.fromFile(new URL('../../lua/', import.meta.url), 'advance-ack-1');

export interface AckRecorderOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  /** Lifetime of the per-account hash of acknowledged cursors, refreshed on each ack. */
  ackRetentionMs: number;
  /** Lifetime of an event trace key when an ack is the first to write it; 0: tracing is off. */
  traceTtlMs: number;
  now: () => number;
}

/** Writes device acknowledgements to Redis: the device's last acked cursor, and the event's trace. */
export class AckRecorder {
  constructor(private readonly options: AckRecorderOptions) {}

  /** Moves the device's acknowledged cursor forward (never back). True when it moved. */
  async advance(accountId: string, deviceId: string, cursor: string): Promise<boolean> {
    const { redis, keys, ackRetentionMs } = this.options;
    return (await advanceAck.run(redis, [keys.deviceAcks(accountId)], [deviceId, cursor, ackRetentionMs])) === 1;
  }

  /** `ack:<deviceId>` → epoch ms in the event's trace. A trace key that had no TTL gets one. */
  async trace(eventId: string, deviceId: string): Promise<void> {
    const { redis, keys, traceTtlMs, now } = this.options;
    if (traceTtlMs === 0) return;
    const key = keys.trace(eventId);
    await redis.multi().hset(key, `ack:${deviceId}`, now()).pexpire(key, traceTtlMs, 'NX').exec();
  }
}
