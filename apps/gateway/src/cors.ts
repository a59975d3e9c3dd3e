import type { RequestHandler } from 'express';
import { checkOrigin } from './origins.js';

/**
 * CORS for the pull API: a listed origin (or any, without a list) is answered with
 * `Access-Control-Allow-Origin`; a browser request from another origin is refused with 403
 * before it does anything. Preflights are answered here.
 */
export function cors(allowedOrigins: readonly string[] | undefined): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) {
      next();
      return;
    }
    checkOrigin(origin, allowedOrigins);
    res.setHeader('Access-Control-Allow-Origin', allowedOrigins === undefined ? '*' : origin);
    res.setHeader('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
