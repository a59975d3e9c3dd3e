import { AckSchema, deviceRoom } from '@herald/contracts';
import type { Notification, Synced } from '@herald/contracts';
import { HeraldError, toHeraldError } from '@herald/errors';
import type { History } from '@herald/history';
import { compareCursors, toNotification } from '@herald/history';
import type { Logger } from '@herald/observability';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { GatewayOptions } from '../options.js';
import type { AckRecorder } from './acks.js';
import { RecentNotifications } from './recent-notifications.js';
import { TokenBucket } from './token-bucket.js';
import type { GatewaySocket } from './types.js';

export interface ConnectionContext {
  history: History;
  acks: AckRecorder;
  options: GatewayOptions;
  metrics: GatewayMetrics;
  logger: Logger;
  now: () => number;
}

/** Why the gateway asks a client to reconnect (the `reconnect_requested` reason). */
export type ReconnectReason = 'max_lifetime' | 'shutting_down' | 'replay_failed';

/** `replaying`: live pushes are held; `live`: they go out as they come; `closed`: the socket is gone. */
type Phase = 'replaying' | 'live' | 'closed';

/** A cursor written canonically (no leading zeros), so string order checks in Redis hold. */
function canonicalCursor(cursor: string): string {
  const [ms = '0', seq = '0'] = cursor.split('-');
  return `${BigInt(ms)}-${BigInt(seq)}`;
}

function errorBody(error: HeraldError): { code: string; message: string } {
  return { code: error.code, message: error.message };
}

/**
 * One device socket on this node: joins the device's room, replays what the device missed,
 * then forwards live pushes, records acks, rate-limits what the client sends and asks it to
 * reconnect when its lifetime is up.
 *
 * Ordering without gaps or duplicates: the socket joins its room first and holds live pushes
 * while it reads history; the last history read happens after the join, so every entry is
 * either read (its cursor is at most the `fence`) or appended later, and then pushed after the
 * join and held. Going live, it sends the held pushes past the fence and drops the rest.
 */
export class DeviceConnection {
  // Fields are few and created lazily where they can be: a node holds tens of thousands of these.
  private phase: Phase = 'replaying';
  private held: Notification[] | undefined;
  /** The hold overflowed: pushes are dropped until the replay re-reads them from history. */
  private heldOverflowed = false;
  /** History up to this cursor was replayed, or is behind the device: pushes at or before it are not sent. */
  private fence: string | undefined;
  /** A resync asked for while replaying: it runs once the device is live again. */
  private resyncAfter: string | undefined;
  private recentlySent: RecentNotifications | undefined;
  private bucket: TokenBucket | undefined;
  private refusedInARow = 0;
  /** Notifications sent with an ack callback not called yet (bounded; past it, no callback). */
  private callbacksPending = 0;
  /** Asked to reconnect or refused: the transport is closing. */
  private leaving = false;
  /** Epoch ms after which the node asks the client to reconnect (see `DeviceSockets`' lifetime sweep). */
  readonly expiresAt: number;

  constructor(
    readonly socket: GatewaySocket,
    private readonly context: ConnectionContext,
  ) {
    const { connectionMaxLifetimeMs, lifetimeDitherMs } = context.options;
    this.expiresAt = context.now() + connectionMaxLifetimeMs - Math.floor(Math.random() * lifetimeDitherMs);
  }

  private get recent(): RecentNotifications {
    this.recentlySent ??= new RecentNotifications(this.context.options.recentNotifications);
    return this.recentlySent;
  }

  /** A getter, so a check after an `await` reads the phase anew (TypeScript narrows a field read). */
  private get closed(): boolean {
    return this.phase === 'closed';
  }

  get device(): GatewaySocket['data']['device'] {
    return this.socket.data.device;
  }

  /** Joins the room, listens, replays, sends `synced` and goes live. Never throws. */
  async open(): Promise<void> {
    const { accountId, deviceId } = this.device;
    this.listen();
    await this.socket.join(deviceRoom(accountId, deviceId));
    try {
      const synced = await this.catchUp(this.socket.data.cursor);
      if (this.phase === 'closed') return;
      this.socket.emit('synced', synced);
      this.goLive();
    } catch (error) {
      this.context.logger.warn({ err: error, accountId, deviceId }, 'replay failed; asking the device to reconnect');
      this.requestReconnect('replay_failed');
    }
  }

  /** A live push for this device (from the adapter). Held during replay; duplicates dropped. */
  deliverLive(notification: Notification): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'replaying') {
      this.hold(notification);
      return;
    }
    const covered = this.fence !== undefined && compareCursors(notification.cursor, this.fence) <= 0;
    if (covered || this.recentlySent?.has(notification.cursor) === true) {
      this.context.metrics.dropped.inc({ reason: 'duplicate' });
      return;
    }
    this.send(notification);
    this.context.metrics.pushed.inc();
  }

  /**
   * Live pushes for this device may have been lost on their way to this node (its live lane
   * overflowed, or its subscription to the live channels was down): sends what history holds
   * after `after` that this connection has not sent, holding live pushes meanwhile as on
   * connect. Notifications sent longer ago than the recently-sent set remembers may go out twice
   * (devices drop a repeated event id). Asked during a replay, it runs once that replay is done.
   * Never throws: a failed read asks the device to reconnect, which replays from the device's
   * own cursor.
   */
  async resync(after: string): Promise<void> {
    if (this.phase === 'closed' || this.leaving) return;
    if (this.phase === 'replaying') {
      // Once this replay is done (what it reads is sent, so from its fence on at the latest).
      this.resyncAfter = this.resyncAfter === undefined || compareCursors(after, this.resyncAfter) < 0 ? after : this.resyncAfter;
      return;
    }
    this.phase = 'replaying';
    try {
      // Not before the replay that started this connection: what it read was sent.
      const from = this.fence !== undefined && compareCursors(this.fence, after) > 0 ? this.fence : after;
      await this.replayAfter(from);
      if (this.closed) return;
      this.goLive();
    } catch (error) {
      const { accountId, deviceId } = this.device;
      this.context.logger.warn({ err: error, accountId, deviceId }, 'resync failed; asking the device to reconnect');
      this.requestReconnect('replay_failed');
    }
  }

  /** Tells the client to reconnect (it will, with its backoff) and closes the transport. */
  requestReconnect(reason: ReconnectReason): void {
    if (this.phase === 'closed' || this.leaving) return;
    this.leaving = true;
    this.context.metrics.disconnects.inc({ reason });
    this.socket.emit('reconnect_requested', { reason });
    this.socket.conn.close();
  }

  /** Tells the client why it may not stay (e.g. its token was revoked) and disconnects it for good. */
  refuse(error: HeraldError): void {
    if (this.phase === 'closed') return;
    this.leaving = true;
    this.context.metrics.disconnects.inc({ reason: error.code });
    this.socket.emit('error', errorBody(error));
    this.socket.disconnect(true);
  }

  /** The socket is gone: stop everything. */
  close(): void {
    this.phase = 'closed';
    this.held = undefined;
  }

  private async catchUp(cursor: string | undefined): Promise<Synced> {
    const { history } = this.context;
    const { accountId } = this.device;
    if (cursor === undefined || (await history.isTrimmedPast(accountId, cursor))) {
      // A new device, or one too far behind to catch up: it starts from the newest cursor.
      this.fence = await history.latestCursor(accountId);
      return { cursor: this.fence ?? null, replayed: 0, reset: cursor !== undefined };
    }
    const replayed = await this.replayAfter(cursor);
    return { cursor: this.fence ?? null, replayed, reset: false };
  }

  private async replayAfter(cursor: string): Promise<number> {
    const { history, options, metrics } = this.context;
    const { accountId, deviceId } = this.device;
    this.fence = cursor;
    let replayed = 0;
    for (;;) {
      const page = await history.range(accountId, this.fence, options.replayPageSize);
      if (this.phase === 'closed') return replayed;
      for (const { cursor: entryCursor, entry } of page) {
        this.fence = entryCursor;
        // Sent already (live, before a resync): not again.
        if (!entry.devices.includes(deviceId) || this.recentlySent?.has(entryCursor) === true) continue;
        this.send(toNotification(entryCursor, entry));
        metrics.replayed.inc();
        replayed++;
      }
      if (page.length < options.replayPageSize) {
        if (!this.heldOverflowed) return replayed;
        // Pushes were dropped from a full hold; they are in history after the fence. Hold anew
        // and read on: whatever is appended after this next read will be held.
        this.heldOverflowed = false;
      }
    }
  }

  private hold(notification: Notification): void {
    if (this.heldOverflowed) return;
    this.held ??= [];
    if (this.held.length >= this.context.options.liveBufferLimit) {
      this.held = undefined;
      this.heldOverflowed = true;
      return;
    }
    this.held.push(notification);
  }

  private goLive(): void {
    this.phase = 'live';
    const held = this.held ?? [];
    this.held = undefined;
    for (const notification of held) this.deliverLive(notification);
    const after = this.resyncAfter;
    if (after !== undefined) {
      this.resyncAfter = undefined;
      void this.resync(after);
    }
  }

  private send(notification: Notification): void {
    this.recent.remember(notification.cursor, notification.id);
    if (this.callbacksPending >= this.context.options.recentNotifications) {
      this.socket.emit('notification', notification);
      return;
    }
    this.callbacksPending++;
    this.socket.emit('notification', notification, () => {
      this.callbacksPending--;
      this.acknowledge(notification.cursor, 'callback');
    });
  }

  private listen(): void {
    this.socket.use((_event, next) => {
      if (this.admit()) next();
    });
    this.socket.on('ack', (ack: unknown, callback?: unknown) => this.onAck(ack, callback));
  }

  /** The per-connection token bucket; the first refusal in a row is reported, too many close the connection. */
  private admit(): boolean {
    const { options, now } = this.context;
    this.bucket ??= new TokenBucket(options.rateLimit.burst, options.rateLimit.perSecond, now);
    if (this.bucket.take()) {
      this.refusedInARow = 0;
      return true;
    }
    const { metrics } = this.context;
    metrics.rateLimited.inc();
    this.refusedInARow++;
    if (this.refusedInARow === 1) {
      this.socket.emit('error', { code: 'rate_limited', message: `Too many messages: at most ${options.rateLimit.perSecond} per second.` });
    }
    if (this.refusedInARow >= options.rateLimit.maxRefusedInARow) {
      this.refuse(new HeraldError('rate_limited', 'Too many messages over the rate limit; disconnected.'));
    }
    return false;
  }

  private onAck(raw: unknown, callback: unknown): void {
    const reply = typeof callback === 'function' ? (callback as (reply: unknown) => void) : undefined;
    const parsed = AckSchema.safeParse(raw);
    if (!parsed.success) {
      const error = HeraldError.invalid(parsed.error.issues, 'The ack is invalid: send { cursor }.');
      if (reply === undefined) this.socket.emit('error', errorBody(error));
      else reply({ ok: false, error: errorBody(error) });
      return;
    }
    this.acknowledge(parsed.data.cursor, 'event', reply);
  }

  private acknowledge(cursor: string, via: 'event' | 'callback', reply?: (reply: unknown) => void): void {
    const { acks, metrics, logger } = this.context;
    const { accountId, deviceId } = this.device;
    metrics.acks.inc({ via });
    const canonical = canonicalCursor(cursor);
    const eventId = this.recentlySent?.eventIdOf(canonical);
    const writes = [acks.advance(accountId, deviceId, canonical), ...(eventId === undefined ? [] : [acks.trace(eventId, deviceId)])];
    Promise.all(writes).then(
      () => reply?.({ ok: true }),
      (error: unknown) => {
        logger.warn({ err: error, accountId, deviceId }, 'recording an ack failed');
        reply?.({ ok: false, error: errorBody(toHeraldError(error)) });
      },
    );
  }
}
