import type { z } from 'zod';
import { DeviceListSchema, EventTraceSchema, EventTypeListSchema, MAX_BATCH_EVENTS, RegisterDeviceResultSchema } from '@herald/contracts';
import type { EventInput, EventTrace, RegisterDevice } from '@herald/contracts';
import { backoffDelay, resolveBackoff } from './backoff.js';
import type { BackoffOptions, ResolvedBackoff } from './backoff.js';
import { HeraldClientError } from './errors.js';
import { baseUrl, errorFromResponse, globalFetch, parseResponse, sendRequest, sleep } from './http.js';
import type { FetchLike, HttpResponse } from './http.js';
import { randomId } from './random-id.js';
import { BatchResponseSchema } from './responses.js';
import type { DeviceView, EventResult, EventTypeInfo, RegisteredDevice } from './responses.js';

export interface HeraldPublisherOptions {
  /** Ingest's URL, e.g. `https://ingest.example.com` (default port 3100). */
  url: string;
  /** A service key (`HERALD_SERVICE_KEYS`). */
  serviceKey: string;
  /** Events per `POST /v1/events/batch`, 1..1000 (default 100). */
  maxBatchSize?: number;
  /** How long `send()` waits for more events to fill a batch (default 10 ms; 0: only those sent in the same tick). */
  maxDelayMs?: number;
  /** Retries of a request that failed for a passing reason (429, 5xx, network) before giving up (default 5). */
  maxRetries?: number;
  /** Batch requests in flight at once (default 4). 1 keeps events in the order they were sent, barring retries. */
  concurrency?: number;
  /** How long one request may take (default 10000 ms). */
  requestTimeoutMs?: number;
  /** Backoff between retries (default 250 ms doubling to 10 s, ±50 % jitter); `Retry-After` is honoured when longer. */
  backoff?: BackoffOptions;
  /** The fetch implementation (default the global one). */
  fetch?: FetchLike;
  /**
   * Told of each retry before its wait: why (`error.code`, e.g. `overloaded`), how long it waits
   * (`delayMs`, never less than `Retry-After`), which retry it is, and for how many events. For
   * logs and progress output; it cannot change the retry.
   */
  onRetry?: (retry: PublisherRetry) => void;
}

/** A retry the publisher is about to wait for (see `HeraldPublisherOptions.onRetry`). */
export interface PublisherRetry {
  error: HeraldClientError;
  delayMs: number;
  /** 1 for the first retry. */
  attempt: number;
  /** Events waiting for it (0 for a device or catalog request). */
  events: number;
}

/** What one event of `sendBatch` came to, in the order given. */
export type SendOutcome = { ok: true; result: EventResult } | { ok: false; error: HeraldClientError };

/** An event with its idempotency id, waiting in the publisher. */
interface Pending {
  event: EventInput & { id: string };
  enqueuedAt: number;
  /** Retries so far. */
  attempts: number;
  /** Not sent again before this time (epoch ms): backoff after a failure. */
  notBefore: number;
  resolve: (result: EventResult) => void;
  reject: (error: HeraldClientError) => void;
  settled: Promise<void>;
}

const PUBLISHER_BACKOFF: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 10_000, randomizationFactor: 0.5 };

/**
 * The service side: sends events to ingest, batching them, and wraps the service-facing
 * device and catalog endpoints.
 *
 * `send(event)` queues the event and resolves with its own result once the batch it went in is
 * answered. A batch goes out when it is full (`maxBatchSize`) or when its oldest event has waited
 * `maxDelayMs`. Each event gets an idempotency id here when it has none, so a retry can never
 * accept it twice: a 429 (after `Retry-After`), a 5xx or a network failure retries the request
 * with jittered backoff, and an item refused for backlog inside an accepted batch is retried on
 * its own. Other refusals (400 and the rest) reject at once with the server's code, message and
 * details. After a retry, `duplicate` may mean that an earlier attempt got through.
 *
 * Load shedding: events Herald sheds (`overloaded`, whole request or per item) wait at least the
 * `Retry-After` the server gave (the more it sheds, the longer) before they are sent again, so
 * retries do not feed the overload. Only those events wait: new events keep going out, because
 * the publisher cannot tell their priority and Herald never sheds high-priority ones.
 */
export class HeraldPublisher {
  private readonly url: string;
  private readonly serviceKey: string;
  private readonly maxBatchSize: number;
  private readonly maxDelayMs: number;
  private readonly maxRetries: number;
  private readonly concurrency: number;
  private readonly requestTimeoutMs: number;
  private readonly backoff: ResolvedBackoff;
  private readonly fetch: FetchLike;
  private readonly onRetry: ((retry: PublisherRetry) => void) | undefined;
  /** Events ready to go, oldest first (retries whose backoff is over go back to the front). */
  private ready: Pending[] = [];
  /** Retries waiting for their backoff. */
  private waiting: Pending[] = [];
  private readonly unsettled = new Set<Pending>();
  private inFlight = 0;
  /** While positive, batches go out without waiting for `maxDelayMs` (flush, sendBatch). */
  private hurry = 0;
  private pumpQueued = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(options: HeraldPublisherOptions) {
    this.url = baseUrl(options.url, 'url');
    if (typeof options.serviceKey !== 'string' || options.serviceKey.length === 0) throw new TypeError('serviceKey must be a service key');
    this.serviceKey = options.serviceKey;
    this.maxBatchSize = options.maxBatchSize ?? 100;
    if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1 || this.maxBatchSize > MAX_BATCH_EVENTS) {
      throw new RangeError(`maxBatchSize must be an integer in 1..${MAX_BATCH_EVENTS}`);
    }
    this.maxDelayMs = options.maxDelayMs ?? 10;
    if (!(this.maxDelayMs >= 0)) throw new RangeError('maxDelayMs must not be negative');
    this.maxRetries = options.maxRetries ?? 5;
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0) throw new RangeError('maxRetries must be a non-negative integer');
    this.concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    if (!(this.requestTimeoutMs > 0)) throw new RangeError('requestTimeoutMs must be positive');
    this.backoff = resolveBackoff({ ...PUBLISHER_BACKOFF, ...options.backoff });
    this.fetch = options.fetch ?? globalFetch();
    this.onRetry = options.onRetry;
  }

  /** Queues one event; resolves with its `{ id, status, priority }`, rejects with a `HeraldClientError`. */
  send(event: EventInput): Promise<EventResult> {
    return this.enqueue(event).promise;
  }

  /**
   * Sends these events now (in batches of `maxBatchSize`, with the usual retries) and resolves
   * with one outcome per event, in order; it never rejects.
   */
  async sendBatch(events: readonly EventInput[]): Promise<SendOutcome[]> {
    const queued = events.map((event) => this.enqueue(event).promise);
    this.hurry++;
    this.kick();
    try {
      const settled = await Promise.allSettled(queued);
      return settled.map((outcome) =>
        outcome.status === 'fulfilled' ? { ok: true, result: outcome.value } : { ok: false, error: asClientError(outcome.reason) },
      );
    } finally {
      this.hurry--;
    }
  }

  /** Sends every queued event now and resolves when all events queued so far are settled. */
  async flush(): Promise<void> {
    const settled = [...this.unsettled].map((pending) => pending.settled);
    if (settled.length === 0) return;
    this.hurry++;
    this.kick();
    try {
      await Promise.all(settled);
    } finally {
      this.hurry--;
    }
  }

  /** Flushes, then refuses new events (they reject with `closed`). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    clearTimeout(this.timer);
  }

  /** `POST /v1/devices`: registers (or updates) a device; resolves with its id and token. */
  async registerDevice(input: RegisterDevice): Promise<RegisteredDevice> {
    return parseResponse(RegisterDeviceResultSchema, await this.call('POST', '/v1/devices', input, 201, false));
  }

  /** `GET /v1/accounts/:accountId/devices`, with presence. */
  async listDevices(accountId: string): Promise<DeviceView[]> {
    const path = `/v1/accounts/${encodeURIComponent(accountId)}/devices`;
    return parseResponse(DeviceListSchema, await this.call('GET', path, undefined, 200, true)).devices;
  }

  /** `DELETE /v1/accounts/:accountId/devices/:deviceId`: its tokens stop working at once. */
  async removeDevice(accountId: string, deviceId: string): Promise<void> {
    const path = `/v1/accounts/${encodeURIComponent(accountId)}/devices/${encodeURIComponent(deviceId)}`;
    await this.call('DELETE', path, undefined, 204, false);
  }

  /** `GET /v1/event-types`: the event catalog. */
  async eventTypes(): Promise<EventTypeInfo[]> {
    return parseResponse(EventTypeListSchema, await this.call('GET', '/v1/event-types', undefined, 200, true)).eventTypes;
  }

  /** `GET /v1/events/:id`: where an event went (gates, pushes, acks). */
  async trace(eventId: string): Promise<EventTrace> {
    return parseResponse(EventTraceSchema, await this.call('GET', `/v1/events/${encodeURIComponent(eventId)}`, undefined, 200, true));
  }

  private enqueue(event: EventInput): { promise: Promise<EventResult> } {
    if (this.closed) return { promise: Promise.reject(new HeraldClientError('closed', 'The publisher is closed.')) };
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      return { promise: Promise.reject(new HeraldClientError('invalid_request', 'An event must be an object.')) };
    }
    let resolve!: (result: EventResult) => void;
    let reject!: (error: HeraldClientError) => void;
    const promise = new Promise<EventResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const now = Date.now();
    const pending: Pending = {
      event: event.id === undefined ? { ...event, id: randomId() } : { ...event, id: event.id },
      enqueuedAt: now,
      attempts: 0,
      notBefore: now,
      resolve: (result) => {
        this.unsettled.delete(pending);
        resolve(result);
      },
      reject: (error) => {
        this.unsettled.delete(pending);
        reject(error);
      },
      settled: promise.then(
        () => undefined,
        () => undefined,
      ),
    };
    this.unsettled.add(pending);
    this.ready.push(pending);
    this.kick();
    return { promise };
  }

  /** Runs `pump` once after the current tick: events sent in one tick share a batch. */
  private kick(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => this.pump());
  }

  /** Sends the batches that are due, then arms the timer for the next one. */
  private pump(): void {
    this.pumpQueued = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    if (this.waiting.length > 0) {
      const due = this.waiting.filter((pending) => pending.notBefore <= now);
      if (due.length > 0) {
        this.waiting = this.waiting.filter((pending) => pending.notBefore > now);
        this.ready = [...due, ...this.ready];
      }
    }
    while (this.ready.length > 0 && this.inFlight < this.concurrency) {
      const oldest = this.ready[0]!;
      const due = this.ready.length >= this.maxBatchSize || this.hurry > 0 || this.closed || now - oldest.enqueuedAt >= this.maxDelayMs;
      if (!due) break;
      this.dispatch(this.ready.splice(0, this.maxBatchSize));
    }
    let next = Number.POSITIVE_INFINITY;
    if (this.ready.length > 0 && this.inFlight < this.concurrency) next = this.ready[0]!.enqueuedAt + this.maxDelayMs;
    for (const pending of this.waiting) next = Math.min(next, pending.notBefore);
    if (Number.isFinite(next)) this.timer = setTimeout(() => this.pump(), Math.max(0, next - now));
  }

  private dispatch(batch: Pending[]): void {
    this.inFlight++;
    void this.post(batch).finally(() => {
      this.inFlight--;
      this.kick();
    });
  }

  private async post(batch: Pending[]): Promise<void> {
    let response: HttpResponse;
    try {
      response = await sendRequest(this.fetch, {
        method: 'POST',
        url: `${this.url}/v1/events/batch`,
        headers: { authorization: `Bearer ${this.serviceKey}` },
        body: { events: batch.map((pending) => pending.event) },
        timeoutMs: this.requestTimeoutMs,
      });
    } catch (error) {
      this.retry(batch, asClientError(error));
      return;
    }
    if (response.status === 202 || response.status === 429) {
      const parsed = BatchResponseSchema.safeParse(response.body);
      if (parsed.success && parsed.data.results.length === batch.length) {
        this.settle(batch, parsed.data.results, response);
        return;
      }
      if (response.status === 202) {
        this.retry(batch, new HeraldClientError('invalid_response', 'POST /v1/events/batch answered with an unexpected body.', { status: 202 }));
        return;
      }
    }
    if (response.status === 413 && batch.length > 1) {
      // Too many bytes for one request: send it again in halves, without counting an attempt.
      const half = Math.ceil(batch.length / 2);
      this.dispatch(batch.slice(0, half));
      this.dispatch(batch.slice(half));
      return;
    }
    this.retry(batch, errorFromResponse(response));
  }

  private settle(batch: Pending[], results: z.output<typeof BatchResponseSchema>['results'], response: HttpResponse): void {
    const backlogged: Pending[] = [];
    let backlogError: HeraldClientError | undefined;
    for (const result of results) {
      const pending = batch[result.index];
      if (pending === undefined) continue;
      if ('id' in result) {
        pending.resolve({ id: result.id, status: result.status, priority: result.priority });
        continue;
      }
      const { code, message, details, retryAfterSeconds } = result.error;
      const retryAfterMs = retryAfterSeconds === undefined ? response.retryAfterMs : retryAfterSeconds * 1000;
      const error = new HeraldClientError(code, message, { details, retryAfterMs });
      if (error.retryable) {
        backlogged.push(pending);
        if (backlogError === undefined || (retryAfterMs ?? 0) > (backlogError.retryAfterMs ?? 0)) backlogError = error;
      } else {
        pending.reject(error);
      }
    }
    if (backlogError !== undefined) this.retry(backlogged, backlogError);
  }

  /** Schedules the events for another try after one backoff delay (shared, so they stay one batch), or rejects them. */
  private retry(batch: Pending[], error: HeraldClientError): void {
    const attempts = Math.max(...batch.map((pending) => pending.attempts));
    if (!error.retryable || attempts >= this.maxRetries) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    const delayMs = Math.max(backoffDelay(attempts, this.backoff), error.retryAfterMs ?? 0);
    this.tellRetry({ error, delayMs, attempt: attempts + 1, events: batch.length });
    const notBefore = Date.now() + delayMs;
    for (const pending of batch) {
      pending.attempts++;
      pending.notBefore = notBefore;
    }
    this.waiting.push(...batch);
    this.kick();
  }

  /** A listener that throws must not break the publisher. */
  private tellRetry(retry: PublisherRetry): void {
    try {
      this.onRetry?.(retry);
    } catch {
      // ignored: onRetry is for observing
    }
  }

  /** One service-facing request, checked against `ok`; GETs are retried like events, the rest are not (not idempotent). */
  private async call(method: 'GET' | 'POST' | 'DELETE', path: string, body: unknown, ok: number, retry: boolean): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await sendRequest(this.fetch, {
          method,
          url: `${this.url}${path}`,
          headers: { authorization: `Bearer ${this.serviceKey}` },
          body,
          timeoutMs: this.requestTimeoutMs,
        });
        if (response.status !== ok) throw errorFromResponse(response);
        return response;
      } catch (thrown) {
        const error = asClientError(thrown);
        if (!retry || !error.retryable || attempt >= this.maxRetries) throw error;
        const delayMs = Math.max(backoffDelay(attempt, this.backoff), error.retryAfterMs ?? 0);
        this.tellRetry({ error, delayMs, attempt: attempt + 1, events: 0 });
        await sleep(delayMs);
      }
    }
  }
}

function asClientError(thrown: unknown): HeraldClientError {
  if (thrown instanceof HeraldClientError) return thrown;
  return new HeraldClientError('network_error', thrown instanceof Error ? thrown.message : String(thrown), { cause: thrown });
}
