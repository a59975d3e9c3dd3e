import { once } from 'node:events';
import { loadConfig, requireRedisUrl } from '@herald/config';
import { runMain, stopOnSignals } from '@herald/lifecycle';
import { closeRedis, createRedis } from '@herald/redis';
import { createIngestApp, createIngestDeps } from './index.js';

runMain(async () => {
  const config = loadConfig(process.env, 'ingest');
  const redis = createRedis({ url: requireRedisUrl(config), name: 'herald-ingest', autoPipelining: true });
  const deps = createIngestDeps(config, redis);
  const { logger } = deps;
  for (const line of config.developmentDefaults) logger.warn(`development default in use: ${line}`);

  const server = createIngestApp(deps).listen(config.ports.ingest);
  await once(server, 'listening');
  logger.info({ port: config.ports.ingest }, `ingest listening on http://localhost:${config.ports.ingest}`);

  stopOnSignals({
    app: 'ingest',
    logger,
    // Finish the requests in flight, then let go of Redis.
    stop: async () => {
      server.close();
      server.closeIdleConnections();
      await once(server, 'close');
      await closeRedis(redis);
    },
  });
});
