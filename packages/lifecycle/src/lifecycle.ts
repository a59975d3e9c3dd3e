import { ConfigError } from '@herald/config';
import type { Logger } from '@herald/observability';
import { checkRedisSetup, RedisSetupError } from '@herald/redis';
import type { RedisClient, RedisSetupReport } from '@herald/redis';

export interface GracefulStopOptions {
  app: string;
  logger: Logger;
  /** What stopping means for this app: refuse new work, finish what is in flight, close. */
  stop: () => Promise<void>;
  /** Past this the process exits 1 anyway (work in flight is retried elsewhere). Default 30 s. */
  timeoutMs?: number;
}

/**
 * Stops the app once on SIGTERM or SIGINT and exits 0, or exits 1 when stopping fails or takes
 * longer than the timeout (e.g. with Redis gone), rather than hanging.
 */
export function stopOnSignals({ app, logger, stop, timeoutMs = 30_000 }: GracefulStopOptions): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${app} stopping`);
    setTimeout(() => {
      logger.error(`${app} did not stop within ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs).unref();
    stop().then(
      () => {
        logger.info(`${app} stopped`);
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, `${app} failed to stop cleanly`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * The start-up check of an app's Redis, before it takes any work: logs one Redis or a Cluster
 * (with `cluster_state` and its masters), and throws a RedisSetupError, which stops the app with
 * a plain message, when a master is not set up as Herald needs (`maxmemory-policy noeviction`).
 */
export async function checkRedis(client: RedisClient, logger: Logger): Promise<RedisSetupReport> {
  const report = await checkRedisSetup(client);
  const summary = report.mode === 'cluster' ? `Redis Cluster, cluster_state ${report.clusterState ?? 'unknown'}, ${report.masters.length} masters` : 'one Redis';
  logger.info({ redis: report }, `redis: ${summary}, maxmemory-policy noeviction`);
  if (report.clusterState !== undefined && report.clusterState !== 'ok') logger.warn({ clusterState: report.clusterState }, 'the Redis Cluster is not ok yet; commands wait and retry until it is');
  return report;
}

/** Runs an app's main; a failure to start prints its reason (a config or Redis set-up error as plain text) and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError || error instanceof RedisSetupError ? error.message : error);
    process.exit(1);
  });
}
