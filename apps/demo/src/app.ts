import express from 'express';
import type { Express } from 'express';
import { errorHandler, notFound } from '@herald/http';
import type { Logger } from '@herald/runtime';
import { demoRouter } from './demo-router.js';
import { resolveDemoOptions } from './options.js';
import type { DemoOptionsInput } from './options.js';

export interface DemoDeps {
  logger: Logger;
}

/**
 * The development demo as its own small server: the page, its script and the API the page uses,
 * plus `/healthz` and `/readyz` (always ready: it holds no connection; whether ingest answers is
 * said per request). It reaches Herald only through ingest's and the gateway's public APIs.
 */
export function createDemoApp(deps: DemoDeps, input: DemoOptionsInput): Express {
  const options = resolveDemoOptions(input);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => void res.json({ status: 'ready' }));
  app.use(demoRouter(options));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
