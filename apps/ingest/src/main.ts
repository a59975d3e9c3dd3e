import { once } from 'node:events';
import { createServer } from 'node:http';
import { loadConfig, requireRedisUrl } from '@herald/config';
import { checkRedis, createLogger, listenOn, runMain, stopOnSignals } from '@herald/runtime';
import { PRIORITIES } from '@herald/contracts';
import type { Priority } from '@herald/contracts';
import { closeRedis, createRedis } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { createIngestApp, createIngestDeps } from './index.js';

runMain(async () => {
  const config = loadConfig(process.env, 'ingest');
  const url = requireRedisUrl(config);
  const logger = createLogger({ app: 'ingest', level: config.logLevel });
  // Connection errors are logged (ioredis reconnects by itself), not thrown as unhandled events.
  const redis = createRedis({ url, clusterNodes: config.redisClusterNodes, name: 'herald-ingest', autoPipelining: true, logger });
  // A connection per priority for appends: a low-priority flood's scripts never queue ahead of a high one's.
  const appenders = Object.fromEntries(
    PRIORITIES.map((priority) => [
      priority,
      createRedis({ url, clusterNodes: config.redisClusterNodes, name: `herald-ingest-${priority}`, autoPipelining: true, logger }),
    ]),
  ) as Record<Priority, RedisClient>;
  await checkRedis(redis, logger);
  const deps = createIngestDeps(config, redis, appenders, logger);
  for (const warning of config.warnings) logger.warn(warning);

  const server = createServer(createIngestApp(deps));
  await listenOn(server, config.ports.ingest, 'INGEST_PORT');
  logger.info({ port: config.ports.ingest }, `ingest listening on http://localhost:${config.ports.ingest}`);

  stopOnSignals({
    app: 'ingest',
    logger,
    redis,
    // Finish the requests in flight, then let go of Redis.
    stop: async () => {
      server.close();
      server.closeIdleConnections();
      await once(server, 'close');
      await Promise.all([redis, ...Object.values(appenders)].map((client) => closeRedis(client)));
    },
  });
});
