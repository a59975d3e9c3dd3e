import { createServer } from 'node:http';
import { getPriority, setPriority } from 'node:os';
import { loadConfig, requireRedisUrl } from '@herald/config';
import { checkRedis, listenOn, runMain, stopOnSignals } from '@herald/runtime';
import { createWorker, createWorkerDeps } from './index.js';

runMain(async () => {
  const config = loadConfig(process.env, 'worker');
  const deps = createWorkerDeps(config, requireRedisUrl(config));
  const { logger } = deps;
  await checkRedis(deps.redis, logger);
  for (const warning of config.warnings) logger.warn(warning);
  if (config.worker.nice > 0) {
    // Only ever lower the priority (raising it needs privileges and is never what this is for).
    setPriority(Math.max(getPriority(), config.worker.nice));
    logger.info({ nice: getPriority() }, 'worker runs at a lower OS scheduling priority (HERALD_WORKER_NICE)');
  }
  const worker = createWorker(deps);
  const server = createServer(worker.http);
  await listenOn(server, config.ports.worker, 'WORKER_PORT');
  await worker.start();
  logger.info(
    { port: config.ports.worker, roles: config.worker.roles, priorities: config.worker.priorities },
    `worker running (health and dead letters on http://localhost:${config.ports.worker})`,
  );

  stopOnSignals({
    app: 'worker',
    logger,
    redis: deps.redis,
    // Stop reading, finish the batches and jobs in flight (what cannot finish stays pending
    // and is retried by another worker), give the leases back.
    stop: async () => {
      await worker.stop();
      server.close();
      server.closeIdleConnections();
    },
  });
});
