import express from 'express';
import type { ErrorRequestHandler, Express } from 'express';
import type { EventCatalog } from '@herald/catalog';
import type { DeviceRegistry } from '@herald/devices';
import { errorHandler, healthRoutes, normalizeError, notFound, requestMetrics, serviceAuth } from '@herald/http';
import type { ServiceCredential } from '@herald/http';
import type { Logger, Registry } from '@herald/runtime';
import type { OverloadMonitor } from '@herald/overload';
import { ingestOpenApiDocument, openApiRoute } from '@herald/openapi';
import type { PriorityStreams } from '@herald/priority-streams';
import type { RedisClient } from '@herald/redis';
import type { EventTraces } from '@herald/trace';
import { createIngestMetrics } from './ingest-metrics.js';
import { devicesRouter } from './routes/devices.js';
import { eventsRouter } from './routes/events.js';

export interface IngestDeps {
  redis: RedisClient;
  catalog: EventCatalog;
  streams: PriorityStreams;
  /** Load shedding (started; stop it when the app stops); undefined: off (`HERALD_SHEDDING=false`). */
  overload?: OverloadMonitor | undefined;
  devices: DeviceRegistry;
  /** Reads event traces (`GET /v1/events/:id`). */
  traces: EventTraces;
  serviceKeys: readonly ServiceCredential[];
  logger: Logger;
  metrics: Registry;
  now?: () => number;
}

/** Builds the ingest HTTP app: the single door through which events enter Herald. */
export function createIngestApp(deps: IngestDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestMetrics(deps.metrics));
  app.use(healthRoutes({ redis: deps.redis, metrics: deps.metrics }));
  app.use(openApiRoute(ingestOpenApiDocument()));
  app.use('/v1', serviceAuth(deps.serviceKeys));
  const metrics = createIngestMetrics(deps.metrics);
  app.use(
    eventsRouter({
      catalog: deps.catalog,
      streams: deps.streams,
      shedding: deps.overload,
      traces: deps.traces,
      metrics,
      logger: deps.logger,
      ...(deps.now === undefined ? {} : { now: deps.now }),
    }),
  );
  app.use(devicesRouter({ devices: deps.devices }));
  app.use(notFound);
  // Whole requests to the event endpoints refused (bad JSON, bad envelope, auth, size), by reason.
  const countRejections: ErrorRequestHandler = (error, _req, _res, next) => {
    const normalized = normalizeError(error);
    if (normalized.status < 500) metrics.rejected.inc({ reason: normalized.code });
    next(normalized);
  };
  app.use('/v1/events', countRejections);
  app.use(errorHandler(deps.logger));
  return app;
}
