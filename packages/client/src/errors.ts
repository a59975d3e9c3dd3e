/** One problem with a request, as the server reports it (`{ path, message }`). */
export interface HeraldErrorDetail {
  path: string;
  message: string;
}

export interface HeraldClientErrorOptions {
  status?: number | undefined;
  details?: readonly HeraldErrorDetail[] | undefined;
  retryAfterMs?: number | undefined;
  fatal?: boolean;
  cause?: unknown;
}

/**
 * Every error the SDK reports or rejects with. `code` is the server's error code when the server
 * answered (`invalid_request`, `unauthorized`, `backlog_exceeded`, `overloaded`, …: see the README's table), or
 * one of the SDK's own when it did not:
 *
 * - `network_error`: the request never got an answer (connection refused, reset, DNS);
 * - `timeout`: no answer within the request timeout;
 * - `unreachable`: a socket connection attempt failed (the client keeps trying);
 * - `invalid_response` / `invalid_message`: the server's answer or message did not match the
 *   contract (a version mismatch, or something that is not Herald at that URL);
 * - `storage_error`: the cursor storage threw;
 * - `closed`: the publisher was closed before the event could be sent.
 */
export class HeraldClientError extends Error {
  override readonly name = 'HeraldClientError';
  /** The HTTP status of the answer that carried the error, when there was one. */
  readonly status: number | undefined;
  readonly details: readonly HeraldErrorDetail[] | undefined;
  /** How long the server asked to wait before trying again (`Retry-After`, or a batch item's `retryAfterSeconds`). */
  readonly retryAfterMs: number | undefined;
  /** The client stopped because of this error and will not retry (e.g. a revoked device token). */
  readonly fatal: boolean;

  constructor(
    readonly code: string,
    message: string,
    options: HeraldClientErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.details = options.details;
    this.retryAfterMs = options.retryAfterMs;
    this.fatal = options.fatal ?? false;
  }

  /**
   * Worth trying again later: backlog, load shedding (`overloaded`), rate limits, server errors,
   * network failures, and answers that were not Herald's (a proxy's error page). Other refusals
   * (400, 401, 403, 404, …) are final.
   */
  get retryable(): boolean {
    if (this.status !== undefined && (this.status === 429 || this.status === 408 || this.status >= 500)) return true;
    return RETRYABLE_CODES.has(this.code);
  }

  /** A copy marked fatal: the client gave up because of it. */
  asFatal(): HeraldClientError {
    return new HeraldClientError(this.code, this.message, {
      status: this.status,
      details: this.details,
      retryAfterMs: this.retryAfterMs,
      fatal: true,
      cause: this.cause,
    });
  }
}

const RETRYABLE_CODES = new Set([
  'network_error',
  'timeout',
  'unreachable',
  'invalid_response',
  'backlog_exceeded',
  'overloaded',
  'rate_limited',
  'unavailable',
  'internal',
]);

/** Device credentials the server refused: retrying with the same token cannot help. */
export function isAuthRefusal(code: string): boolean {
  return code === 'unauthorized' || code === 'forbidden';
}
