import { Router } from 'express';
import { HeraldError } from '@herald/contracts';
import type { Registry } from '@herald/runtime';
import { pingMasters } from '@herald/redis';
import type { RedisClient } from '@herald/redis';

/**
 * `GET /healthz` (process up), `GET /readyz` (Redis answers PING: on a Cluster, every master, since
 * any of them may hold the next request's keys), `GET /metrics` (Prometheus).
 */
export function healthRoutes(options: { redis: RedisClient; metrics: Registry; readyTimeoutMs?: number }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const timeoutMs = options.readyTimeoutMs ?? 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        pingMasters(options.redis, timeoutMs),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
        }),
      ]);
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json(new HeraldError('unavailable', 'Redis is not reachable.').toJSON());
    } finally {
      clearTimeout(timer);
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.type(options.metrics.contentType).send(await options.metrics.metrics());
  });
  return router;
}
