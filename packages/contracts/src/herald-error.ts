import type { z } from 'zod';
import { ERROR_CODES } from './error-codes.js';
import type { ErrorCode } from './error-codes.js';
import type { ErrorBody, ErrorDetail } from './http-api.js';

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

/** The code a client fault of an HTTP status maps to: the code with that status, else `invalid_request`. */
export function codeForClientStatus(status: number): ErrorCode {
  if (status === 429) return 'rate_limited';
  const code = (Object.keys(ERROR_CODES) as ErrorCode[]).find((candidate) => ERROR_CODES[candidate] === status);
  return code ?? 'invalid_request';
}

/** What each client-fault code says when the thrown error's own message is not meant for clients. */
const CLIENT_FAULT_MESSAGES: Partial<Record<ErrorCode, string>> = {
  invalid_request: 'The request is malformed.',
  unauthorized: 'The request is not authorized.',
  forbidden: 'The request is forbidden.',
  not_found: 'Not found.',
  method_not_allowed: 'The method is not allowed here.',
  payload_too_large: 'The body is too large.',
  unsupported_media_type: 'The body must be UTF-8 JSON.',
  rate_limited: 'Too many requests; retry later.',
};

/** `status` or `statusCode` of a thrown value, when it is a 4xx: the thrower's word that the client is at fault. */
function clientStatusOf(thrown: unknown): number | undefined {
  if (typeof thrown !== 'object' || thrown === null) return undefined;
  const { status, statusCode } = thrown as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value < 500 ? value : undefined;
}

/**
 * Errors of well-known kinds that only bad input causes, whoever threw them and with whatever
 * status: zlib's on a corrupt or truncated compressed body, a malformed `%` escape (URIError).
 * Their own messages ("incorrect header check") mean nothing to a client; these do.
 */
function knownClientFault(thrown: unknown): string | undefined {
  if (thrown instanceof URIError) return 'The URL has a malformed %-escape.';
  const code = typeof thrown === 'object' && thrown !== null ? (thrown as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^(Z_DATA_ERROR|Z_BUF_ERROR|Z_NEED_DICT|ERR__ERROR_(FORMAT|DICTIONARY)_\w+)$/.test(code)) {
    return 'The body is not valid for its Content-Encoding (corrupt or truncated).';
  }
  return undefined;
}

/**
 * Turns anything thrown into a HeraldError: the one mapper every HTTP and socket error leaves
 * through. Herald's own pass through. Any other error that carries a 4xx `status` or
 * `statusCode` (express, body-parser, http-errors) is a client fault under the code of that
 * status, and so are the kinds only bad input causes (zlib, URIError): no input a client sends
 * can turn into a 5xx. Anything else becomes a 500 `internal` whose message reveals nothing
 * (the cause is kept for the log).
 */
export function toHeraldError(thrown: unknown): HeraldError {
  if (thrown instanceof HeraldError) return thrown;
  const known = knownClientFault(thrown);
  if (known !== undefined) return new HeraldError('invalid_request', known, { cause: thrown });
  const status = clientStatusOf(thrown);
  if (status !== undefined) {
    const code = codeForClientStatus(status);
    // http-errors marks the messages written for clients with `expose`; others stay in the log.
    const exposed = (thrown as { expose?: unknown }).expose === true && thrown instanceof Error ? thrown.message : undefined;
    return new HeraldError(code, exposed ?? CLIENT_FAULT_MESSAGES[code] ?? 'The request is malformed.', { cause: thrown });
  }
  return new HeraldError('internal', 'Something went wrong on our side.', { cause: thrown });
}
