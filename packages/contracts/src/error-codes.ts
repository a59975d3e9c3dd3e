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
