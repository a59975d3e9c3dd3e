import type { z } from 'zod';
import { parseJson } from '@herald/contracts';
import { HeraldClientError } from './errors.js';
import { ErrorBodySchema } from './responses.js';

/** `fetch` as the SDK calls it; pass your own to add a proxy agent, tracing or a test double. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  /** Aborts the request (e.g. `HeraldPoller.stop()`); it then rejects with code `aborted`. */
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  /** The parsed JSON body; undefined when empty or not JSON. */
  body: unknown;
  /** `Retry-After` in milliseconds, when the server sent one. */
  retryAfterMs: number | undefined;
  /** `METHOD /path`, for messages. */
  what: string;
}

/** The global fetch, looked up at call time (so polyfills installed later still count). */
export function globalFetch(): FetchLike {
  return (url, init) => globalThis.fetch(url, init);
}

/** A base URL without its trailing slashes, checked. */
export function baseUrl(url: string, name: string): string {
  try {
    new URL(url);
  } catch {
    throw new TypeError(`${name} must be an absolute URL (got ${JSON.stringify(url)})`);
  }
  return url.replace(/\/+$/, '');
}

/**
 * Sends one request and reads its JSON answer, whatever the status. Throws only when there is no
 * answer: `network_error`, `timeout`, or `aborted` when the caller's signal fired.
 */
export async function sendRequest(fetchImpl: FetchLike, request: HttpRequest): Promise<HttpResponse> {
  const what = `${request.method} ${new URL(request.url).pathname}`;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const onAbort = () => controller.abort();
  request.signal?.addEventListener('abort', onAbort, { once: true });
  if (request.signal?.aborted === true) controller.abort();
  try {
    const response = await fetchImpl(request.url, {
      method: request.method,
      headers: { accept: 'application/json', ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: controller.signal,
    });
    const text = await response.text();
    return { status: response.status, body: parseJson(text), retryAfterMs: parseRetryAfter(response.headers.get('retry-after')), what };
  } catch (error) {
    if (request.signal?.aborted === true) throw new HeraldClientError('aborted', `${what} was aborted.`, { cause: error });
    if (timedOut) throw new HeraldClientError('timeout', `${what} got no answer within ${request.timeoutMs} ms.`, { cause: error });
    throw new HeraldClientError('network_error', `${what} failed: ${describe(error)}.`, { cause: error });
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
  }
}

/** The error an unsuccessful answer stands for: the server's `{ error }` body, or its status. */
export function errorFromResponse(response: HttpResponse): HeraldClientError {
  const parsed = ErrorBodySchema.safeParse(response.body);
  const options = { status: response.status, retryAfterMs: response.retryAfterMs };
  if (!parsed.success) return new HeraldClientError(`http_${response.status}`, `${response.what} answered HTTP ${response.status}.`, options);
  const { code, message, details } = parsed.data.error;
  return new HeraldClientError(code, message, { ...options, details });
}

/** The body checked against `schema`; `invalid_response` when it does not match. */
export function parseResponse<S extends z.ZodType>(schema: S, response: HttpResponse): z.output<S> {
  const parsed = schema.safeParse(response.body);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  throw new HeraldClientError('invalid_response', `${response.what} answered with an unexpected body (is this a Herald server of the same version?).`, {
    status: response.status,
    details,
  });
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The most useful words of a fetch failure (undici hides the reason in `cause`). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
  }
  return error.message;
}

/** Waits `ms`, or less when `signal` fires (it never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
