import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HeraldError } from '@herald/contracts';

export interface BasicAuthOptions {
  user: string;
  password: string;
  /** Shown by browsers in the login prompt. */
  realm: string;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The user and password of an `Authorization: Basic …` header, or undefined. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * HTTP Basic auth (RFC 7617), so browsers prompt for the login and scripts send it with curl -u.
 * User and password are compared by digest in constant time, both always, so neither the
 * length nor which of the two was wrong shows in the timing. A refusal is the contract's 401
 * JSON with `WWW-Authenticate`, which makes browsers show the prompt.
 */
export function basicAuth({ user, password, realm }: BasicAuthOptions): RequestHandler {
  const expectedUser = digest(user);
  const expectedPassword = digest(password);
  const challenge = `Basic realm="${realm.replace(/["\\]/g, '')}"`;
  return (req, res, next) => {
    const given = basicCredentials(req.headers.authorization);
    const userMatches = timingSafeEqual(digest(given?.user ?? ''), expectedUser);
    const passwordMatches = timingSafeEqual(digest(given?.password ?? ''), expectedPassword);
    if (given !== undefined && userMatches && passwordMatches) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', challenge);
    next(
      new HeraldError(
        'unauthorized',
        given === undefined ? 'Log in with the dashboard user and password (HTTP Basic auth).' : 'The dashboard user or password is wrong.',
      ),
    );
  };
}
