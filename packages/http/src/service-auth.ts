import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HeraldError } from '@herald/contracts';

export interface ServiceCredential {
  name: string;
  key: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The bearer token of a request, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * `Authorization: Bearer <service key>`. Keys are compared by digest in constant time; the
 * caller's name is put in `res.locals.service`.
 */
export function serviceAuth(credentials: readonly ServiceCredential[]): RequestHandler {
  const known = credentials.map(({ name, key }) => ({ name, digest: digest(key) }));
  return (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) {
      next(new HeraldError('unauthorized', 'Send a service key as `Authorization: Bearer <key>`.'));
      return;
    }
    const presented = digest(token);
    const match = known.find((candidate) => timingSafeEqual(candidate.digest, presented));
    if (match === undefined) {
      next(new HeraldError('unauthorized', 'The service key is not valid.'));
      return;
    }
    res.locals['service'] = match.name;
    next();
  };
}
