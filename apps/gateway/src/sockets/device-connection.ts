import { AckSchema, HeraldError, deviceRoom, toHeraldError } from '@herald/contracts';
import type { LivePush, Notification, Synced } from '@herald/contracts';
import type { History } from '@herald/history';
import { compareCursors, toNotification } from '@herald/history';
import type { Logger } from '@herald/runtime';
import { isReplyError } from '@herald/redis';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { GatewayOptions } from '../options.js';
import type { AckRecorder } from './acks.js';
import type { LivePushTrace } from './live-feed.js';
import type { SentTraces } from './sent-traces.js';
import { RecentNotifications } from './recent-notifications.js';
import { TokenBucket } from './token-bucket.js';
import type { GatewaySocket } from './types.js';

export interface ConnectionContext {
  history: History;
  acks: AckRecorder;
  sent: SentTraces;
  options: GatewayOptions;
  metrics: GatewayMetrics;
  logger: Logger;
  now: () => number;
}

/** Why the gateway asks a client to reconnect (the `reconnect_requested` reason). */
export type ReconnectReason = 'max_lifetime' | 'shutting_down' | 'replay_failed' | 'history_trimmed';

/**
 * `starting`: replaying what the device missed, live pushes are held; `live`: pushes go out as
 * they come; `filling`: reading a gap from history, pushes are held; `closed`: the socket is gone.
 */
type Phase = 'starting' | 'live' | 'filling' | 'closed';

/** The delivered cursor of a connection that started on an empty history: before every entry. */
const EMPTY_HISTORY = '0-0';

/** How a notification reached the socket (traces and metrics). */
type Via = 'live' | 'replay' | 'fill';

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
 * Exactly once, in order, by one invariant: `delivered` is a cursor such that every history
 * entry targeted at this device up to it has been sent on this connection (or was behind the
 * device when it connected), and it only moves forward through the account's history. A push
 * at or before it is a true duplicate and is dropped; a push whose predecessor in the history
 * (`prev`) is at or before it follows on and is sent; any other push means a gap, which is read
 * from history, in cursor order, before the push is considered again. Nothing waits for
 * another priority's queue: a gap is read, not waited for.
 */
export class DeviceConnection {
  // Fields are few and created lazily where they can be: a node holds tens of thousands of these.
  private phase: Phase = 'starting';
  /** The exact delivered cursor (see the class comment); undefined only while starting. */
  private delivered: string | undefined;
  /** Pushes that came while history was being read, in arrival order, with where their sending is traced. */
  private held: [LivePush, LivePushTrace | undefined][] | undefined;
  /** Read history again before going live: pushes were dropped from a full hold, or the node lost some. */
  private readAgain = false;
  private sentEvents: RecentNotifications | undefined;
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

  /** A getter, so a check after an `await` reads the phase anew (TypeScript narrows a field read). */
  private get closed(): boolean {
    return this.phase === 'closed';
  }

  get device(): GatewaySocket['data']['device'] {
    return this.socket.data.device;
  }

  /**
   * Joins the room, listens, replays, sends `synced` and goes live. The caller has marked the
   * device online first, so an entry appended after the replay's last read is pushed (the
   * router reads presence after its append). Never throws.
   */
  async open(): Promise<void> {
    const { accountId, deviceId } = this.device;
    this.listen();
    await this.socket.join(deviceRoom(accountId, deviceId));
    try {
      const synced = await this.catchUp(this.socket.data.cursor);
      if (this.closed) return;
      this.socket.emit('synced', synced);
      this.goLive();
    } catch (error) {
      this.historyFailed(error, 'replay');
    }
  }

  /** A live push for this device. Held while history is read; sent, dropped or gap-filled by the invariant. */
  deliverLive(push: LivePush, trace: LivePushTrace | undefined): void {
    if (this.phase === 'closed') return;
    if (this.phase !== 'live') {
      this.hold(push, trace);
      return;
    }
    const { notification, prev } = push;
    const delivered = this.delivered!;
    if (compareCursors(notification.cursor, delivered) <= 0) {
      this.context.metrics.dropped.inc({ reason: 'duplicate' });
      return;
    }
    if (prev === null || (prev !== undefined && compareCursors(prev, delivered) <= 0)) {
      this.delivered = notification.cursor;
      this.send(notification, 'live');
      if (trace !== undefined) this.context.sent.live(trace, push.deviceIds.indexOf(this.device.deviceId));
      return;
    }
    // Something before this push is not delivered yet (another priority's push still on its
    // way, an entry for other devices, a push lost in transit): read it from history first.
    this.context.metrics.gapFills.inc({ reason: 'gap' });
    this.hold(push, trace);
    void this.fill();
  }

  /**
   * Pushes for this connection may have been lost on this node (a live stream it can no longer
   * read): reads history after the delivered cursor, as a gap. Exact, so it sends nothing twice.
   */
  async resync(): Promise<void> {
    if (this.phase === 'closed' || this.leaving) return;
    this.context.metrics.gapFills.inc({ reason: 'lost' });
    if (this.phase !== 'live') {
      this.readAgain = true;
      return;
    }
    await this.fill();
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
      const latest = await history.latestCursor(accountId);
      this.delivered = latest ?? EMPTY_HISTORY;
      if (this.readAgain) await this.readHistory('replay');
      return { cursor: latest ?? null, replayed: 0, reset: cursor !== undefined };
    }
    this.delivered = canonicalCursor(cursor);
    const replayed = await this.readHistory('replay');
    return { cursor: this.delivered, replayed, reset: false };
  }

  /**
   * Reads the gap after the delivered cursor from history, then goes on with the held pushes.
   * The phase changes at once, so pushes that come meanwhile are held. Never rejects.
   */
  private fill(): Promise<void> {
    this.phase = 'filling';
    return (async () => {
      try {
        const { history } = this.context;
        // A connection that started on an empty history has nothing before its first entry to
        // miss ('0-0' is older than any trimmed marker the history gets later).
        if (this.delivered !== EMPTY_HISTORY && (await history.isTrimmedPast(this.device.accountId, this.delivered!))) {
          // Entries for this device were trimmed before they were delivered: its cursor says
          // so on reconnect, and the device refreshes in full (`synced.reset`).
          this.requestReconnect('history_trimmed');
          return;
        }
        await this.readHistory('fill');
        if (this.closed) return;
        this.goLive();
      } catch (error) {
        this.historyFailed(error, 'gap');
      }
    })();
  }

  /**
   * History could not be read. Redis unreachable (it may come back): the device is asked to
   * reconnect, and its own cursor brings it up to date. Redis refused the read (the same read
   * would be refused again: reconnecting would loop): the device is told so and disconnected.
   */
  private historyFailed(error: unknown, reading: 'replay' | 'gap'): void {
    const { accountId, deviceId } = this.device;
    if (isReplyError(error)) {
      this.context.logger.error({ err: error, accountId, deviceId }, `reading history (${reading}) was refused by Redis; disconnecting the device`);
      this.refuse(new HeraldError('internal', "This account's history cannot be read; reconnecting would fail the same way."));
      return;
    }
    this.context.logger.warn({ err: error, accountId, deviceId }, `reading history (${reading}) failed; asking the device to reconnect`);
    this.requestReconnect('replay_failed');
  }

  /**
   * Sends what history holds after the delivered cursor and targets this device, oldest first,
   * moving the cursor over every entry read; returns how many were sent.
   */
  private async readHistory(via: Via): Promise<number> {
    const { history, options } = this.context;
    const { accountId, deviceId } = this.device;
    let sent = 0;
    for (;;) {
      const page = await history.range(accountId, this.delivered, options.replayPageSize);
      if (this.closed) return sent;
      for (const { cursor, entry } of page) {
        this.delivered = cursor;
        if (!entry.devices.includes(deviceId)) continue;
        this.send(toNotification(cursor, entry), via);
        sent++;
      }
      if (page.length < options.replayPageSize) {
        if (!this.readAgain) return sent;
        // Pushes were dropped from a full hold (or lost on the node): they are in history
        // after the cursor. Read on: whatever is appended after this next read will be held.
        this.readAgain = false;
      }
    }
  }

  private hold(push: LivePush, trace: LivePushTrace | undefined): void {
    if (this.readAgain) return;
    this.held ??= [];
    if (this.held.length >= this.context.options.liveBufferLimit) {
      this.held = undefined;
      this.readAgain = true;
      return;
    }
    this.held.push([push, trace]);
  }

  /** Goes live with the pushes held meanwhile, in arrival order; one of them may start another fill. */
  private goLive(): void {
    this.phase = 'live';
    const held = this.held ?? [];
    this.held = undefined;
    for (const [push, trace] of held) this.deliverLive(push, trace);
  }

  /** Sends a notification; one from history is recorded in the event's trace here (a live push, by the caller). */
  private send(notification: Notification, via: Via): void {
    const { metrics, sent } = this.context;
    const { deviceId, platform } = this.device;
    if (via === 'live') metrics.pushed.inc();
    else {
      metrics.replayed.inc();
      sent.fromHistory(notification.id, platform, deviceId);
    }
    this.sentEvents ??= new RecentNotifications(this.context.options.recentNotifications);
    this.sentEvents.remember(notification.cursor, notification.id);
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
    const eventId = this.sentEvents?.eventIdOf(canonical);
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
