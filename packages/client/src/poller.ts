import { MAX_NOTIFICATIONS_LIMIT, MAX_NOTIFICATIONS_WAIT_MS, NotificationsPageSchema } from '@herald/contracts';
import type { Synced } from '@herald/contracts';
import { backoffDelay, resolveBackoff } from './backoff.js';
import type { BackoffOptions, ResolvedBackoff } from './backoff.js';
import { defaultCursorStorage } from './cursor-storage.js';
import type { CursorStorage } from './cursor-storage.js';
import { cursorStorageKey } from './device-token.js';
import { TypedEmitter } from './emitter.js';
import { HeraldClientError } from './errors.js';
import type { HeraldClientEvents } from './events.js';
import { baseUrl, errorFromResponse, globalFetch, parseResponse, sendRequest, sleep } from './http.js';
import type { FetchLike } from './http.js';
import { Inbox } from './inbox.js';
import type { PullResponse } from './responses.js';

export interface HeraldPollerOptions {
  /** The gateway's URL, e.g. `https://gateway.example.com`. */
  url: string;
  /** The device token from `POST /v1/devices`. */
  token: string;
  /** Where the last cursor is kept (default: localStorage in a browser, memory elsewhere). */
  storage?: CursorStorage;
  /** The cursor's key in the storage (default: per account and device, read from the token). */
  storageKey?: string;
  /** Notifications per pull, 1..500 (default 100). */
  limit?: number;
  /** How long each pull waits for something to arrive, 0..30000 ms (default 25000); 0 polls. */
  waitMs?: number;
  /** Pause after a pull that found the device up to date (default 0 when long-polling, 5000 ms when polling). */
  intervalMs?: number;
  /** Time allowed on top of `waitMs` before a pull counts as failed (default 10000 ms). */
  requestTimeoutMs?: number;
  /** Backoff after failures (default 1 s doubling to 30 s, ±50 % jitter); `Retry-After` is honoured when longer. */
  backoff?: BackoffOptions;
  /** Event ids remembered to drop duplicates (default 1000). */
  dedupeCapacity?: number;
  /** The fetch implementation (default the global one). */
  fetch?: FetchLike;
}

/**
 * The device client for mobile (and anything that cannot hold a socket): a long-poll loop over
 * `GET /v1/notifications?after=&limit=&waitMs=`. Each answer's notifications are emitted oldest
 * first, duplicates dropped, and its cursor saved, so the next pull (or the next app start)
 * continues after it. `synced` is emitted when a pull finds the device up to date, once after
 * start and once after each recovery from failures; until then pulls do not wait, so it comes
 * promptly, and from then on they long-poll. Failures back off with jitter (at least as
 * long as a 429's `Retry-After`); a refused token (401, 403) or any other refused request stops
 * the loop with a fatal `error`.
 */
export class HeraldPoller extends TypedEmitter<HeraldClientEvents> {
  private readonly url: string;
  private readonly token: string;
  private readonly limit: number;
  private readonly waitMs: number;
  private readonly intervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly backoff: ResolvedBackoff;
  private readonly fetch: FetchLike;
  private readonly inbox: Inbox;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(options: HeraldPollerOptions) {
    super();
    this.url = baseUrl(options.url, 'url');
    if (typeof options.token !== 'string' || options.token.length === 0) throw new TypeError('token must be a device token');
    this.token = options.token;
    this.limit = options.limit ?? 100;
    if (!Number.isInteger(this.limit) || this.limit < 1 || this.limit > MAX_NOTIFICATIONS_LIMIT)
      throw new RangeError(`limit must be an integer in 1..${MAX_NOTIFICATIONS_LIMIT}`);
    this.waitMs = options.waitMs ?? 25_000;
    if (!Number.isInteger(this.waitMs) || this.waitMs < 0 || this.waitMs > MAX_NOTIFICATIONS_WAIT_MS)
      throw new RangeError(`waitMs must be an integer in 0..${MAX_NOTIFICATIONS_WAIT_MS}`);
    this.intervalMs = options.intervalMs ?? (this.waitMs > 0 ? 0 : 5000);
    if (!(this.intervalMs >= 0)) throw new RangeError('intervalMs must not be negative');
    if (this.waitMs === 0 && this.intervalMs === 0) throw new RangeError('without long-polling (waitMs 0), intervalMs must be positive');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    if (!(this.requestTimeoutMs > 0)) throw new RangeError('requestTimeoutMs must be positive');
    this.backoff = resolveBackoff(options.backoff);
    this.fetch = options.fetch ?? globalFetch();
    this.inbox = new Inbox({
      storage: options.storage ?? defaultCursorStorage(),
      key: options.storageKey ?? cursorStorageKey(options.token),
      dedupeCapacity: options.dedupeCapacity ?? 1000,
      onError: (error) => this.emit('error', error),
    });
  }

  /** The cursor the next pull starts after. */
  get cursor(): string | undefined {
    return this.inbox.cursor;
  }

  /** Whether the loop is running (false before `start()`, after `stop()` and after a fatal error). */
  get running(): boolean {
    return this.controller !== undefined && !this.controller.signal.aborted;
  }

  /** Starts the loop (once the stored cursor is loaded). Does nothing while it runs. */
  start(): void {
    if (this.running) return;
    const controller = new AbortController();
    this.controller = controller;
    const previous = this.loop ?? Promise.resolve();
    // A restart waits for the previous loop to wind down, so two loops never share the cursor.
    this.loop = previous.then(() => this.run(controller.signal));
  }

  /** Stops the loop, aborting the pull in flight, and waits for the last cursor save. */
  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    await this.inbox.flush();
  }

  private async run(signal: AbortSignal): Promise<void> {
    await this.inbox.load();
    let failures = 0;
    // Empty long-polls answered long before waitMs in a row (a gateway shutting down answers
    // its waiting pulls at once): back off instead of spinning.
    let earlyEmpty = 0;
    let online = false;
    let synced = false;
    let replayed = 0;
    const goOffline = (reason: string) => {
      if (online) this.emit('disconnected', reason);
      online = false;
      synced = false;
      replayed = 0;
    };
    while (!signal.aborted) {
      let page: PullResponse;
      const waitMs = synced ? this.waitMs : 0;
      const started = Date.now();
      try {
        // Until caught up (after start, after failures) pulls do not wait: `synced` comes promptly.
        page = await this.pull(waitMs, signal);
      } catch (thrown) {
        if (signal.aborted) break;
        const error = thrown instanceof HeraldClientError ? thrown : new HeraldClientError('network_error', String(thrown), { cause: thrown });
        if (!error.retryable) {
          this.controller?.abort();
          this.emit('error', error.asFatal());
          goOffline(error.message);
          break;
        }
        this.emit('error', error);
        goOffline(error.message);
        await sleep(Math.max(backoffDelay(failures++, this.backoff), error.retryAfterMs ?? 0), signal);
        continue;
      }
      failures = 0;
      if (!online) {
        online = true;
        this.emit('connected');
      }
      if (page.reset) {
        this.inbox.resetTo(page.cursor);
        this.inbox.save();
        const info: Synced = { cursor: page.cursor, replayed: 0, reset: true };
        this.emit('reset', info);
        this.emit('synced', info);
        synced = true;
        continue;
      }
      for (const notification of page.notifications) {
        // Stopped halfway: the rest is not processed and the cursor stays before it.
        if (signal.aborted) break;
        if (this.inbox.accept(notification)) {
          replayed++;
          this.emit('notification', notification);
        }
      }
      if (signal.aborted) {
        this.inbox.save();
        break;
      }
      this.inbox.advance(page.cursor);
      this.inbox.save();
      const upToDate = page.notifications.length < this.limit;
      if (upToDate && !synced) {
        synced = true;
        this.emit('synced', { cursor: this.inbox.cursor ?? null, replayed, reset: false });
      }
      if (upToDate && this.intervalMs > 0) await sleep(this.intervalMs, signal);
      if (waitMs > 0 && page.notifications.length === 0 && Date.now() - started < waitMs / 2) {
        await sleep(backoffDelay(earlyEmpty++, this.backoff), signal);
      } else {
        earlyEmpty = 0;
      }
    }
    if (online) this.emit('disconnected', 'stopped');
  }

  private async pull(waitMs: number, signal: AbortSignal): Promise<PullResponse> {
    const query = new URLSearchParams({ limit: String(this.limit), waitMs: String(waitMs) });
    const after = this.inbox.cursor;
    if (after !== undefined) query.set('after', after);
    const response = await sendRequest(this.fetch, {
      method: 'GET',
      url: `${this.url}/v1/notifications?${query.toString()}`,
      headers: { authorization: `Bearer ${this.token}` },
      timeoutMs: waitMs + this.requestTimeoutMs,
      signal,
    });
    if (response.status !== 200) throw errorFromResponse(response);
    return parseResponse(NotificationsPageSchema, response);
  }
}
