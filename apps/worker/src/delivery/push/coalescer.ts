import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { RedisScript } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { PushSignalSchema } from '../../jobs.js';
import type { PushSignal } from '../../jobs.js';

const coalescePush = RedisScript.fromFile(new URL('../../../lua/', import.meta.url), 'coalesce-push-2');

/** How long a held signal is kept at most: its trailing job takes it within a window, unless the queue is stuck for a day. */
const HELD_TTL_MS = 24 * 3600_000;

const ReplySchema = z.union([
  z.tuple([z.literal('send'), z.string()]),
  z.tuple([z.literal('held'), z.string(), z.number().int()]),
  z.tuple([z.literal('wait'), z.string(), z.number().int()]),
  z.tuple([z.literal('none')]),
]);

/** What the gate says of a signal: send it (maybe a newer held one instead), or hold it for the window's trailing job. */
export type Admission = { verdict: 'send'; signal: PushSignal } | { verdict: 'held'; windowId: string; delayMs: number };

/** What the gate says to a window's trailing job. */
export type TrailingVerdict = { verdict: 'send'; signal: PushSignal } | { verdict: 'wait'; windowId: string; delayMs: number } | { verdict: 'none' };

export interface PushCoalescerOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  /** At most one signal per device per this many ms (`HERALD_PUSH_COALESCE_MS`). */
  windowMs: number;
}

/**
 * Coalesces the "pull now" signals of a device when many events of its account arrive
 * together: one signal per window, in Redis (a key per device, SET NX PX, in the account's
 * hash tag) so every worker process shares it. The first signal of a quiet device goes at
 * once and opens a window; signals during the window are held, the newest kept, and the
 * window's trailing job sends that one when the window ends (opening the next window).
 *
 * Invariant: the last signal of a burst is always followed by a send carrying its cursor or a
 * newer one, at most one window (plus queue latency) later, so the final cursor of a burst
 * always reaches the device. See `lua/coalesce-push-2.lua`.
 */
export class PushCoalescer {
  readonly windowMs: number;

  constructor(private readonly options: PushCoalescerOptions) {
    if (!Number.isInteger(options.windowMs) || options.windowMs < 1) throw new RangeError(`windowMs must be a positive integer, not ${options.windowMs}`);
    this.windowMs = options.windowMs;
  }

  /** Passes a delivery job's signal through the gate. On `held`, the caller makes sure the window's trailing job exists. */
  async admit(signal: PushSignal): Promise<Admission> {
    const reply = await this.run(signal.accountId, signal.deviceId, [
      'signal',
      this.windowMs,
      randomUUID(),
      signal.cursor,
      JSON.stringify(signal),
      HELD_TTL_MS,
    ]);
    if (reply[0] === 'send') return { verdict: 'send', signal: parseSignal(reply[1]) };
    if (reply[0] === 'held') return { verdict: 'held', windowId: reply[1], delayMs: Math.max(1, reply[2]) };
    throw new Error(`the coalescing gate answered ${reply[0]} to a signal`);
  }

  /** A window's trailing job: takes the held signal once the window is over. */
  async trailing(accountId: string, deviceId: string): Promise<TrailingVerdict> {
    const reply = await this.run(accountId, deviceId, ['trailing', this.windowMs, randomUUID()]);
    if (reply[0] === 'send') return { verdict: 'send', signal: parseSignal(reply[1]) };
    if (reply[0] === 'wait') return { verdict: 'wait', windowId: reply[1], delayMs: Math.max(1, reply[2]) };
    if (reply[0] === 'none') return { verdict: 'none' };
    throw new Error(`the coalescing gate answered ${reply[0]} to a trailing job`);
  }

  private async run(accountId: string, deviceId: string, args: (string | number)[]) {
    const { redis, keys } = this.options;
    return ReplySchema.parse(await coalescePush.run(redis, [keys.pushWindow(accountId, deviceId), keys.pushHeld(accountId, deviceId)], args));
  }
}

function parseSignal(json: string): PushSignal {
  return PushSignalSchema.parse(JSON.parse(json));
}
