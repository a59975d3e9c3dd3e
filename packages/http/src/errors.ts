import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HeraldError, toHeraldError } from '@herald/contracts';
import type { Logger } from '@herald/runtime';

/** What body-parser sets on the errors it throws. */
interface BodyParserError {
  type: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === 'object' && error !== null && typeof (error as { type?: unknown }).type === 'string';
}

function fromBodyParser(error: BodyParserError): HeraldError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new HeraldError('invalid_request', 'The body is not valid JSON.', { details: [{ path: '', message: 'malformed JSON' }] });
    case 'entity.too.large':
      return new HeraldError('payload_too_large', 'The body is too large.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HeraldError('unsupported_media_type', 'The body must be UTF-8 JSON.');
    case 'request.aborted':
    case 'request.size.invalid':
      return new HeraldError('invalid_request', 'The body was cut short.');
    default:
      return undefined;
  }
}

/**
 * Any throw as the HeraldError the client will see: body-parser's with messages of their own,
 * the rest through `toHeraldError` (which honours any 4xx status and knows zlib's and URIError).
 */
export function normalizeError(thrown: unknown): HeraldError {
  return (isBodyParserError(thrown) ? fromBodyParser(thrown) : undefined) ?? toHeraldError(thrown);
}

/** The last middleware: every error leaves as the contract's JSON shape with its status. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (thrown: unknown, req, res, _next) => {
    const error = normalizeError(thrown);
    if (error.status >= 500) logger.error({ err: error.cause ?? error, method: req.method, path: req.path }, 'request failed');
    if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    if (res.headersSent) return;
    res.status(error.status).json(error.toJSON());
  };
}

/**
 * For a path served by other methods only: 405 `method_not_allowed` with `Allow`, rather than
 * the 404 that says the path does not exist. Mount it with `.all()` after a route's methods.
 */
export function methodNotAllowed(...allowed: readonly string[]): RequestHandler {
  // Express answers HEAD with the GET route.
  const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].join(', ');
  return (req, res, next) => {
    res.setHeader('Allow', allow);
    next(new HeraldError('method_not_allowed', `${req.method} is not allowed on ${req.path}; use ${allow}.`));
  };
}

/** For any route no router served. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new HeraldError('not_found', `No route for ${req.method} ${req.path}.`));
};
