import type { RequestHandler } from 'express';
import { Histogram } from '@herald/runtime';
import type { Registry } from '@herald/runtime';

/** Up to 30 s: a long-poll (`waitMs`) may take that long. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * `herald_http_request_duration_seconds{method,route,status}`: how long each request took, from
 * its arrival to its answer's end (or the client leaving). `route` is the route's pattern
 * (`/v1/accounts/:accountId/devices`), never the path itself, so ids do not make series;
 * requests no route served count under `route="(unmatched)"`. Mount it first.
 */
export function requestMetrics(registry: Registry): RequestHandler {
  const duration = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status: time from arrival to the end of the answer',
    labelNames: ['method', 'route', 'status'],
    buckets: BUCKETS,
    registers: [registry],
  });
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let done = false;
    const observe = () => {
      if (done) return;
      done = true;
      const route: unknown = (req.route as { path?: unknown } | undefined)?.path;
      duration.observe(
        { method: req.method, route: typeof route === 'string' ? `${req.baseUrl}${route}` : '(unmatched)', status: String(res.statusCode) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    };
    res.once('finish', observe);
    res.once('close', observe);
    next();
  };
}
