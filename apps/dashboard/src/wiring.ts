import type { HeraldConfig } from '@herald/config';
import type { Priority } from '@herald/contracts';
import { createLogger, createMetricsRegistry } from '@herald/runtime';
import type { Logger } from '@herald/runtime';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { EventTraces } from '@herald/trace';
import type { DashboardDeps } from './app.js';
import { OverviewReader } from './overview/overview-reader.js';
import { OverviewSource } from './overview/overview-source.js';
import { createDeliveryQueues } from './queues/delivery-queues.js';

export interface DashboardWiringOverrides {
  logger?: Logger;
  /** How long one overview read is reused (default 1000 ms; tests use 0). */
  overviewMaxAgeMs?: number;
  /** Shortest window of the rates when older samples exist (default 1000 ms; tests use 0). */
  rateMinIntervalMs?: number;
  /** XREAD BLOCK of a live tap (default 1000 ms). */
  tapBlockMs?: number;
  maxTaps?: number;
}

/** Everything the dashboard needs, built from the config and a Redis URL. */
export function createDashboardDeps(config: HeraldConfig, redisUrl: string, overrides: DashboardWiringOverrides = {}): DashboardDeps {
  const keys = createKeys(config.keyPrefix);
  const logger = overrides.logger ?? createLogger({ app: 'dashboard', level: config.logLevel });
  const connections = new Set<RedisClient>();
  const connect = (name: string, blocking = false) => {
    const client = createRedis({ url: redisUrl, clusterNodes: config.redisClusterNodes, name, blocking, logger });
    connections.add(client);
    client.once('end', () => connections.delete(client));
    return client;
  };
  const redis = connect('herald-dashboard');
  // BullMQ's own connection: its scripts and its INFO checks stay off the overview's pipeline.
  const queues = createDeliveryQueues(connect('herald-dashboard-bullmq'), keys);
  const partitions = Object.fromEntries(Object.entries(config.priorities).map(([priority, settings]) => [priority, settings.partitions])) as Record<
    Priority,
    number
  >;

  const reader = new OverviewReader({
    redis,
    keys,
    partitions,
    queues,
    readOnly: config.dashboard.readOnly,
    sampler: { ...(overrides.rateMinIntervalMs === undefined ? {} : { minIntervalMs: overrides.rateMinIntervalMs }) },
  });

  return {
    redis,
    queues,
    overview: new OverviewSource(reader, { ...(overrides.overviewMaxAgeMs === undefined ? {} : { maxAgeMs: overrides.overviewMaxAgeMs }) }),
    traces: new EventTraces({ redis, keys, partitions, windowMs: config.traceWindowMs, dedupWindowMs: config.dedupWindowMs }),
    connectTap: () => connect('herald-dashboard-tap', true),
    admin: config.admin,
    readOnly: config.dashboard.readOnly,
    ...(overrides.maxTaps === undefined ? {} : { maxTaps: overrides.maxTaps }),
    ...(overrides.tapBlockMs === undefined ? {} : { tapBlockMs: overrides.tapBlockMs }),
    logger,
    metrics: createMetricsRegistry('dashboard'),
    close: async () => {
      await Promise.all(queues.map(({ queue }) => queue.close()));
      await Promise.all([...connections].map((connection) => closeRedis(connection)));
    },
  };
}
