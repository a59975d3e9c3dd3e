import type { RequestHandler } from 'express';
import express from 'express';
import type { z } from 'zod';
import { HeraldError } from '@herald/errors';

/** Parses a value with a schema, throwing `invalid_request` with one detail per problem. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, message?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw HeraldError.invalid(result.error.issues, message);
  return result.data;
}

/**
 * Reads a JSON body of at most `limit` bytes. Any other content type is refused with 415, a
 * missing body or a JSON value other than an object with 400.
 */
export function jsonBody(limit: string): RequestHandler[] {
  const parse = express.json({ limit, strict: false, type: () => true });
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) {
      next(new HeraldError('unsupported_media_type', 'Send the body as application/json.'));
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
