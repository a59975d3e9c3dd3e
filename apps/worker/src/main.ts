import { once } from 'node:events';
import { ConfigError, loadConfig } from '@herald/config';
import { createWorker, createWorkerDeps } from './index.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'worker');
  if (config.redisUrl === undefined) {
    throw new ConfigError('REDIS_URL is not set. Run `npm start` (it starts an embedded Redis) or point REDIS_URL at your Redis.');
  }
  const deps = createWorkerDeps(config, config.redisUrl);
  const { logger } = deps;
  const worker = createWorker(deps);
  const server = worker.http.listen(config.ports.worker);
  await once(server, 'listening');
  await worker.start();
  logger.info(
    { port: config.ports.worker, roles: config.worker.roles, priorities: config.worker.priorities },
    `worker running (health and dead letters on http://localhost:${config.ports.worker})`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker stopping: finishing batches and jobs in flight');
    // Work in flight is safe to abandon (it stays pending and is retried), so a stop that
    // cannot finish, e.g. with Redis gone, ends the process rather than hanging.
    setTimeout(() => {
      logger.error('worker did not stop within 30 s; exiting');
      process.exit(1);
    }, 30_000).unref();
    await worker.stop();
    server.close();
    server.closeIdleConnections();
    logger.info('worker stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
