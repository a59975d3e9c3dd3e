import type { z } from 'zod';

/**
 * Every error Herald reports, with the HTTP status it maps to. Clients branch on `code`, so
 * codes are part of the public API: add new ones, never rename.
 */
export const ERROR_CODES = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  backlog_exceeded: 429,
  rate_limited: 429,
  /** Herald sheds this priority for now (the host or Redis cannot keep up); never high priority. */
  overloaded: 429,
  internal: 500,
  unavailable: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The JSON body of every error response: `{ error: { code, message, details? } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetail[] };
}

export class HeraldError extends Error {
  override readonly name = 'HeraldError';
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;
  /** Seconds a client should wait before trying again (`Retry-After`), where that applies. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERROR_CODES[code];
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  static invalid(issues: readonly z.core.$ZodIssue[], message = 'The request is invalid.'): HeraldError {
    return new HeraldError('invalid_request', message, { details: issuesToDetails(issues) });
  }

  toJSON(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** One `{ path, message }` per zod issue; the path is dotted (`events.3.targets.platforms.0`). */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): ErrorDetail[] {
  return issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.'),
    message: issue.message,
  }));
}

/**
 * Turns anything thrown into a HeraldError. Known errors pass through; anything else becomes
 * a 500 `internal` whose message reveals nothing (the cause is kept for the log).
 */
export function toHeraldError(thrown: unknown): HeraldError {
  if (thrown instanceof HeraldError) return thrown;
  return new HeraldError('internal', 'Something went wrong on our side.', { cause: thrown });
}
