import { once } from 'node:events';
import { createServer } from 'node:http';
import { loadConfig, requireRedisUrl } from '@herald/config';
import { checkRedis, listenOn, runMain, stopOnSignals } from '@herald/runtime';
import { createDashboardApp, createDashboardDeps } from './index.js';

runMain(async () => {
  const config = loadConfig(process.env, 'dashboard');
  const deps = createDashboardDeps(config, requireRedisUrl(config));
  const { logger } = deps;
  await checkRedis(deps.redis, logger);
  for (const warning of config.warnings) logger.warn(warning);

  const app = createDashboardApp(deps);
  const server = createServer(app.http);
  await listenOn(server, config.ports.dashboard, 'DASHBOARD_PORT');
  logger.info({ port: config.ports.dashboard, readOnly: config.dashboard.readOnly }, `dashboard listening on http://localhost:${config.ports.dashboard}/admin`);

  stopOnSignals({
    app: 'dashboard',
    logger,
    redis: deps.redis,
    // End the live taps (they never finish on their own), finish other requests, then let go of Redis.
    stop: async () => {
      // Listen first: with no connection open, 'close' comes on the next tick.
      const closed = once(server, 'close');
      server.close();
      await app.close();
      server.closeIdleConnections();
      await closed;
      await deps.close();
    },
  });
});
