import { once } from 'node:events';
import { ConfigError, loadConfig } from '@herald/config';
import { closeRedis, createRedis } from '@herald/redis';
import { createIngestApp, createIngestDeps } from './index.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'ingest');
  if (config.redisUrl === undefined) {
    throw new ConfigError('REDIS_URL is not set. Run `npm start` (it starts an embedded Redis) or point REDIS_URL at your Redis.');
  }
  const redis = createRedis({ url: config.redisUrl, name: 'herald-ingest', autoPipelining: true });
  const deps = createIngestDeps(config, redis);
  const { logger } = deps;
  for (const line of config.developmentDefaults) logger.warn(`development default in use: ${line}`);

  const server = createIngestApp(deps).listen(config.ports.ingest);
  await once(server, 'listening');
  logger.info({ port: config.ports.ingest }, `ingest listening on http://localhost:${config.ports.ingest}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'ingest stopping: finishing requests in flight');
    server.close();
    server.closeIdleConnections();
    await once(server, 'close');
    await closeRedis(redis);
    logger.info('ingest stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
