import { loadCatalog } from '@herald/catalog';
import type { HeraldConfig } from '@herald/config';
import type { Priority } from '@herald/contracts';
import { DeviceRegistry, DeviceTokens } from '@herald/devices';
import { createLogger, createMetricsRegistry } from '@herald/observability';
import type { Logger } from '@herald/observability';
import { PriorityStreams } from '@herald/priority-streams';
import { createKeys } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { EventTraces } from '@herald/trace';
import type { IngestDeps } from './app.js';

/**
 * Everything the ingest app needs, built from the config and a Redis connection; `appenders`
 * are the connections each priority's appends go through (see PriorityStreamsOptions).
 */
export function createIngestDeps(
  config: HeraldConfig,
  redis: RedisClient,
  appenders: Partial<Record<Priority, RedisClient>> = {},
  logger: Logger = createLogger({ app: 'ingest', level: config.logLevel }),
): IngestDeps {
  const keys = createKeys(config.keyPrefix);
  return {
    redis,
    catalog: loadCatalog(config.catalogPath),
    streams: new PriorityStreams({ redis, appenders, keys, priorities: config.priorities, dedupWindowMs: config.dedupWindowMs, replicaAcks: config.replicaAcks }),
    devices: new DeviceRegistry({
      redis,
      keys,
      tokens: new DeviceTokens({ secret: config.deviceSecret, ttlSeconds: config.deviceTokenTtlSeconds }),
    }),
    traces: new EventTraces({
      redis,
      keys,
      partitions: { high: config.priorities.high.partitions, medium: config.priorities.medium.partitions, low: config.priorities.low.partitions },
      windowMs: config.traceWindowMs,
      dedupWindowMs: config.dedupWindowMs,
    }),
    serviceKeys: config.serviceKeys,
    logger,
    metrics: createMetricsRegistry('ingest'),
  };
}
