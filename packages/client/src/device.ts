import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { NotificationSchema, SyncedSchema } from '@herald/contracts';
import type { ClientToServerEvents, HandshakeAuth, ServerToClientEvents, Synced } from '@herald/contracts';
import { backoffDelay, resolveBackoff } from './backoff.js';
import type { BackoffOptions, ResolvedBackoff } from './backoff.js';
import { defaultCursorStorage } from './cursor-storage.js';
import type { CursorStorage } from './cursor-storage.js';
import { cursorStorageKey } from './device-token.js';
import { TypedEmitter } from './emitter.js';
import { HeraldClientError, isAuthRefusal } from './errors.js';
import type { HeraldClientEvents } from './events.js';
import { baseUrl } from './http.js';
import { Inbox } from './inbox.js';
import { LenientErrorSchema, ReconnectRequestedSchema } from './responses.js';

export interface HeraldDeviceOptions {
  /** The gateway's URL, e.g. `https://gateway.example.com` (default port 3200). */
  url: string;
  /** The device token from `POST /v1/devices`. */
  token: string;
  /** Where the last cursor is kept (default: localStorage in a browser, memory elsewhere). */
  storage?: CursorStorage;
  /** The cursor's key in the storage (default: per account and device, read from the token). */
  storageKey?: string;
  /** Connect as soon as the client is built (default true); otherwise call `connect()`. */
  autoConnect?: boolean;
  /** Reconnection backoff (default 1 s doubling to 30 s, ±50 % jitter). */
  backoff?: BackoffOptions;
  /** Socket.IO transports, in order of preference (default WebSocket, then HTTP long-polling). */
  transports?: ('websocket' | 'polling' | 'webtransport')[];
  /** The Socket.IO path (default `/socket.io/`). */
  path?: string;
  /** Event ids remembered to drop duplicates (default 1000). */
  dedupeCapacity?: number;
  /** How long one connection attempt may take (default 20000 ms). */
  connectTimeoutMs?: number;
}

type DeviceSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Acks that go by the `ack` event (no callback offered) are sent at most this often, newest cursor only. */
const ACK_EVENT_DELAY_MS = 100;

/**
 * The device client for web and TV: one Socket.IO connection to the gateway that stays up.
 *
 * It connects with `auth: { token, cursor }`, the cursor being the last one processed (loaded
 * from the storage, saved after each notification), so after every reconnect the gateway
 * replays what was missed before going live; `synced` marks the end of that replay. Duplicates
 * (by event id) are dropped, each notification is acknowledged, every payload is checked against
 * the contract. Reconnection uses socket.io-client's jittered exponential backoff, also when the
 * server asks for it (`reconnect_requested`) or refuses a handshake for a passing reason
 * (`unavailable`); a refused token (`unauthorized`, `forbidden`: revoked, expired) stops the
 * client and is reported as a fatal `error`.
 */
export class HeraldDevice extends TypedEmitter<HeraldClientEvents> {
  private readonly url: string;
  private readonly token: string;
  private readonly backoff: ResolvedBackoff;
  private readonly inbox: Inbox;
  private readonly socketOptions: { transports: ('websocket' | 'polling' | 'webtransport')[]; path: string; timeout: number };
  private socket: DeviceSocket | undefined;
  private starting: Promise<void> | undefined;
  /** Stopped for good: closed by the app, or refused by the server. */
  private stopped = false;
  /** Retries this client schedules itself (socket.io does not retry refused handshakes). */
  private retryAttempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private pendingAck: string | undefined;
  /** Why the server asked us to reconnect, reported with the disconnect that follows. */
  private reconnectReason: string | undefined;

  constructor(options: HeraldDeviceOptions) {
    super();
    this.url = baseUrl(options.url, 'url');
    if (typeof options.token !== 'string' || options.token.length === 0) throw new TypeError('token must be a device token');
    this.token = options.token;
    this.backoff = resolveBackoff(options.backoff);
    const connectTimeoutMs = options.connectTimeoutMs ?? 20_000;
    if (!(connectTimeoutMs > 0)) throw new RangeError('connectTimeoutMs must be positive');
    this.socketOptions = { transports: options.transports ?? ['websocket', 'polling'], path: options.path ?? '/socket.io/', timeout: connectTimeoutMs };
    this.inbox = new Inbox({
      storage: options.storage ?? defaultCursorStorage(),
      key: options.storageKey ?? cursorStorageKey(options.token),
      dedupeCapacity: options.dedupeCapacity ?? 1000,
      onError: (error) => this.emit('error', error),
    });
    if (options.autoConnect !== false) void this.connect();
  }

  /** The cursor the next (re)connection resumes after; undefined before the first notification or `synced`. */
  get cursor(): string | undefined {
    return this.inbox.cursor;
  }

  /** Whether the socket is connected right now. */
  get connected(): boolean {
    return this.socket?.connected === true;
  }

  /**
   * Starts the client: loads the stored cursor, then opens the socket and keeps it open until
   * `close()` or a refusal. Resolves once the socket is opening (listen for `synced` to know it
   * caught up). Calling it again does nothing; a closed client stays closed.
   */
  connect(): Promise<void> {
    this.starting ??= this.start();
    return this.starting;
  }

  /** Disconnects for good and waits for the last cursor save. */
  async close(): Promise<void> {
    if (this.starting !== undefined) await this.starting;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.sendPendingAck();
    this.socket?.disconnect();
    await this.inbox.flush();
  }

  private async start(): Promise<void> {
    await this.inbox.load();
    if (this.stopped) return;
    const socket: DeviceSocket = io(this.url, {
      ...this.socketOptions,
      forceNew: true,
      autoConnect: false,
      reconnection: true,
      reconnectionDelay: this.backoff.initialDelayMs,
      reconnectionDelayMax: this.backoff.maxDelayMs,
      randomizationFactor: this.backoff.randomizationFactor,
      // Read at every (re)connection attempt, so each one resumes from the newest cursor.
      auth: (send) => send(this.handshakeAuth()),
    });
    this.socket = socket;
    this.listen(socket);
    socket.connect();
  }

  private handshakeAuth(): HandshakeAuth {
    const cursor = this.inbox.cursor;
    return cursor === undefined ? { token: this.token } : { token: this.token, cursor };
  }

  private listen(socket: DeviceSocket): void {
    socket.on('connect', () => {
      this.retryAttempt = 0;
      this.reconnectReason = undefined;
      this.emit('connected');
    });
    socket.on('disconnect', (reason) => {
      clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
      this.pendingAck = undefined;
      const requested = this.reconnectReason;
      this.reconnectReason = undefined;
      this.emit('disconnected', requested === undefined ? reason : `reconnect requested (${requested})`);
      // socket.io reconnects by itself after transport failures, not after the server disconnected us.
      if (reason === 'io server disconnect') this.scheduleRetry();
    });
    socket.on('connect_error', (error: Error & { data?: unknown }) => this.onConnectError(socket, error));
    socket.on('notification', (raw: unknown, ack?: (reply?: unknown) => void) => this.onNotification(raw, ack));
    socket.on('synced', (raw: unknown) => this.onSynced(raw));
    socket.on('reconnect_requested', (raw: unknown) => {
      // Nothing to do but remember why: the server closes the transport and socket.io reconnects with backoff.
      const parsed = ReconnectRequestedSchema.safeParse(raw);
      this.reconnectReason = parsed.success ? parsed.data.reason : 'unknown';
    });
    socket.on('error', (raw: unknown) => {
      const parsed = LenientErrorSchema.safeParse(raw);
      if (!parsed.success) {
        this.emit('error', new HeraldClientError('invalid_message', 'The gateway sent a malformed error.'));
        return;
      }
      const { code, message, details } = parsed.data;
      const error = new HeraldClientError(code, message, { details });
      if (isAuthRefusal(code)) this.refuse(error);
      else this.emit('error', error);
    });
  }

  private onConnectError(socket: DeviceSocket, raw: Error & { data?: unknown }): void {
    if (this.stopped) return;
    const refusal = LenientErrorSchema.safeParse(raw.data);
    if (!refusal.success) {
      // The transport failed (gateway down, network gone): socket.io retries with its backoff.
      this.emit('error', new HeraldClientError('unreachable', `Cannot connect to the gateway: ${raw.message}`, { cause: raw }));
      if (!socket.active) this.scheduleRetry();
      return;
    }
    const { code, message, details } = refusal.data;
    const error = new HeraldClientError(code, message, { details });
    // A refused token, or any refusal that is not for a passing reason (an invalid handshake):
    // trying again would be refused again, forever.
    if (isAuthRefusal(code) || !error.retryable) {
      this.refuse(error);
      return;
    }
    // Refused for a passing reason (a node shutting down): socket.io gives up on these, we do not.
    this.emit('error', error);
    this.scheduleRetry();
  }

  /** The token is no good: stop for good and say why. */
  private refuse(error: HeraldClientError): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.disconnect();
    this.emit('error', error.asFatal());
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    const delay = backoffDelay(this.retryAttempt++, this.backoff);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped && this.socket !== undefined && !this.socket.active) this.socket.connect();
    }, delay);
  }

  private onNotification(raw: unknown, ack: ((reply?: unknown) => void) | undefined): void {
    const parsed = NotificationSchema.safeParse(raw);
    if (!parsed.success) {
      // Not acknowledged: it was not processed. The cursor moves past it with the next good one.
      this.emit(
        'error',
        new HeraldClientError('invalid_message', 'The gateway sent a notification that does not match the contract.', {
          details: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
        }),
      );
      return;
    }
    const notification = parsed.data;
    if (this.inbox.accept(notification)) this.emit('notification', notification);
    this.inbox.save();
    // Duplicates are acknowledged too: the server is waiting for an answer either way.
    if (typeof ack === 'function') ack();
    else this.ackByEvent(notification.cursor);
  }

  /** Without a callback (the server has many unanswered), acks go as `ack` events, coalesced to the newest cursor. */
  private ackByEvent(cursor: string): void {
    this.pendingAck = cursor;
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      this.sendPendingAck();
    }, ACK_EVENT_DELAY_MS);
  }

  private sendPendingAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const cursor = this.pendingAck;
    this.pendingAck = undefined;
    if (cursor !== undefined && this.socket?.connected === true) this.socket.emit('ack', { cursor });
  }

  private onSynced(raw: unknown): void {
    const parsed = SyncedSchema.safeParse(raw);
    if (!parsed.success) {
      this.emit('error', new HeraldClientError('invalid_message', 'The gateway sent a malformed synced message.'));
      return;
    }
    const synced: Synced = parsed.data;
    if (synced.reset) this.inbox.resetTo(synced.cursor);
    else this.inbox.advance(synced.cursor);
    this.inbox.save();
    if (synced.reset) this.emit('reset', synced);
    this.emit('synced', synced);
  }
}
