import express from 'express';
import type { Express } from 'express';
import { errorHandler, healthRoutes, notFound } from '@herald/http';
import type { Logger, Registry } from '@herald/runtime';
import type { RedisClient } from '@herald/redis';
import { basicAuth } from './basic-auth.js';
import { registerOverviewMetrics } from './overview/overview-metrics.js';
import type { OverviewSource } from './overview/overview-source.js';
import { sendOverviewPage } from './pages/overview-page.js';
import { sendTapPage } from './pages/tap-page.js';
import type { DeliveryQueue } from './queues/delivery-queues.js';
import { queuesBoard } from './queues/queues-board.js';
import type { EventStream } from './tap/event-stream.js';
import { tapRoutes } from './tap/tap-routes.js';
import type { TraceReader } from './tap/tap-routes.js';

export interface DashboardDeps {
  redis: RedisClient;
  /** Every delivery queue (platform × priority). */
  queues: readonly DeliveryQueue[];
  overview: OverviewSource;
  traces: TraceReader;
  /** A new connection for one live tap (it blocks on XREAD); the tap closes it. */
  connectTap: () => RedisClient;
  admin: { user: string; password: string };
  /** The queue board refuses changes (retry, clean, promote, …). */
  readOnly: boolean;
  /** Live taps open at once (each holds a Redis connection). Default 20. */
  maxTaps?: number;
  /** XREAD BLOCK of a tap (default: the tap's own, 1 s). */
  tapBlockMs?: number;
  logger: Logger;
  metrics: Registry;
  /** Closes what the wiring opened (queues, connections), after the app closed. */
  close: () => Promise<void>;
}

export interface DashboardApp {
  http: Express;
  /** Ends the live taps (their streams never end on their own), so the server can close. */
  close(): Promise<void>;
}

/** Where the board is mounted, for bull-board's own links. */
export const QUEUES_PATH = '/admin/queues';

/**
 * Builds the operators' dashboard: everything under /admin behind HTTP Basic auth (the
 * overview, the BullMQ board of the delivery queues, the live tap and event traces);
 * /healthz, /readyz and /metrics open like every app's.
 */
export function createDashboardApp(deps: DashboardDeps): DashboardApp {
  const streams = new Set<EventStream>();
  const http = express();
  http.disable('x-powered-by');
  http.set('etag', false);
  registerOverviewMetrics(deps.metrics, deps.overview, deps.logger);
  http.use(healthRoutes({ redis: deps.redis, metrics: deps.metrics }));

  const admin = express.Router();
  admin.use(basicAuth({ ...deps.admin, realm: 'Herald' }));
  admin.get('/', (_req, res) => sendOverviewPage(res));
  admin.get('/tap', (_req, res) => sendTapPage(res));
  admin.get('/api/overview', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await deps.overview.current());
  });
  admin.use(
    tapRoutes({
      traces: deps.traces,
      connectTap: deps.connectTap,
      streams,
      maxTaps: deps.maxTaps ?? 20,
      ...(deps.tapBlockMs === undefined ? {} : { tapBlockMs: deps.tapBlockMs }),
      logger: deps.logger,
    }),
  );
  admin.use('/queues', queuesBoard({ queues: deps.queues, basePath: QUEUES_PATH, readOnly: deps.readOnly }));
  http.use('/admin', admin);
  // The root leads to the dashboard (a browser pointed at http://localhost:3300/ got a 404).
  http.get('/', (_req, res) => res.redirect(302, '/admin'));
  http.use(notFound);
  http.use(errorHandler(deps.logger));

  return {
    http,
    async close() {
      for (const stream of streams) stream.close();
      streams.clear();
    },
  };
}
