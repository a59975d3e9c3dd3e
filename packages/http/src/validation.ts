import type { RequestHandler } from 'express';
import express from 'express';
import type { z } from 'zod';
import { HeraldError } from '@herald/contracts';

/** Parses a value with a schema, throwing `invalid_request` with one detail per problem. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, message?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw HeraldError.invalid(result.error.issues, message);
  return result.data;
}

/**
 * The `charset` parameters of a Content-Type header, lower-cased (RFC 9110: `;`-separated
 * `name=value`, the value possibly quoted).
 */
function charsetsOf(contentType: string | undefined): string[] {
  if (contentType === undefined) return [];
  return contentType
    .split(';')
    .slice(1)
    .map((param) => /^\s*charset\s*=\s*"?([^"]*)"?\s*$/i.exec(param)?.[1]?.toLowerCase())
    .filter((charset): charset is string => charset !== undefined);
}

/**
 * Reads a JSON body of at most `limit` bytes, in UTF-8 (no charset, or `charset=utf-8`: RFC
 * 8259 JSON is UTF-8, and a body a proxy reads as UTF-8 must mean the same to Herald; UTF-7
 * would not). Any other content type or charset is refused with 415, a missing body or a JSON
 * value other than an object with 400.
 */
export function jsonBody(limit: string): RequestHandler[] {
  const parse = express.json({ limit, strict: false, type: () => true });
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) {
      next(new HeraldError('unsupported_media_type', 'Send the body as application/json.'));
      return;
    }
    if (charsetsOf(req.headers['content-type']).some((charset) => charset !== 'utf-8')) {
      next(new HeraldError('unsupported_media_type', 'Send the body as UTF-8 JSON: application/json, with no charset or charset=utf-8.'));
      return;
    }
    next();
  };
  const requireObject: RequestHandler = (req, _res, next) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      next(
        new HeraldError('invalid_request', 'The body must be a JSON object.', {
          details: [{ path: '', message: `expected an object, received ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}` }],
        }),
      );
      return;
    }
    next();
  };
  return [requireJson, parse, requireObject];
}
