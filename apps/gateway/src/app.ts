import express from 'express';
import type { Express } from 'express';
import type { DeviceRegistry } from '@herald/devices';
import { HeraldError } from '@herald/contracts';
import { errorHandler, healthRoutes, notFound, requestMetrics } from '@herald/http';
import type { Logger, Registry } from '@herald/runtime';
import { gatewayOpenApiDocument, openApiRoute } from '@herald/openapi';
import type { RedisClient } from '@herald/redis';
import { cors } from './cors.js';
import { notificationsRouter } from './pull/notifications-route.js';
import type { Puller } from './pull/puller.js';

export interface GatewayAppDeps {
  redis: RedisClient;
  devices: DeviceRegistry;
  puller: Puller;
  allowedOrigins: readonly string[] | undefined;
  /** False once the node is shutting down: `/readyz` then answers 503 so load balancers look elsewhere. */
  accepting: () => boolean;
  logger: Logger;
  metrics: Registry;
}

/** The gateway's HTTP side (Socket.IO shares its server): the pull API, health and metrics. */
export function createGatewayApp(deps: GatewayAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestMetrics(deps.metrics));
  app.get('/readyz', (_req, res, next) => {
    if (deps.accepting()) next();
    else res.status(503).json(new HeraldError('unavailable', 'This gateway node is shutting down.').toJSON());
  });
  app.use(healthRoutes({ redis: deps.redis, metrics: deps.metrics }));
  app.use(openApiRoute(gatewayOpenApiDocument()));
  app.use('/v1', cors(deps.allowedOrigins));
  app.use(notificationsRouter({ devices: deps.devices, puller: deps.puller, logger: deps.logger }));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
