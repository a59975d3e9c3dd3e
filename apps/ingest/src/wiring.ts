import { loadCatalog } from '@herald/catalog';
import type { HeraldConfig } from '@herald/config';
import type { Priority } from '@herald/contracts';
import { DeviceRegistry, DeviceTokens } from '@herald/devices';
import { createLogger, createMetricsRegistry } from '@herald/runtime';
import type { Logger } from '@herald/runtime';
import { OverloadMonitor } from '@herald/overload';
import type { SignalSource } from '@herald/overload';
import { PriorityStreams } from '@herald/priority-streams';
import { createKeys, isCluster } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { EventTraces } from '@herald/trace';
import type { IngestDeps } from './app.js';

export interface IngestWiringOverrides {
  /** The overload signals of this process (tests drive shedding with their own); default: host CPU, event loop, Redis PING. */
  overloadSignals?: SignalSource;
}

/**
 * Everything the ingest app needs, built from the config and a Redis connection; `appenders`
 * are the connections each priority's appends go through (see PriorityStreamsOptions). With
 * load shedding on, its monitor is started here (its PING probe on a connection of its own,
 * a duplicate of `redis`): stop it (`deps.overload.stop()`) when the app stops.
 */
export function createIngestDeps(
  config: HeraldConfig,
  redis: RedisClient,
  appenders: Partial<Record<Priority, RedisClient>> = {},
  logger: Logger = createLogger({ app: 'ingest', level: config.logLevel }),
  overrides: IngestWiringOverrides = {},
): IngestDeps {
  const keys = createKeys(config.keyPrefix);
  const metrics = createMetricsRegistry('ingest');
  const partitions = { high: config.priorities.high.partitions, medium: config.priorities.medium.partitions, low: config.priorities.low.partitions };
  const overload = config.overload.enabled
    ? new OverloadMonitor({
        redis,
        keys,
        partitions,
        settings: config.overload,
        ...(overrides.overloadSignals === undefined ? { ping: pingConnection(redis) } : { signals: overrides.overloadSignals }),
        metrics,
        logger,
      }).start()
    : undefined;
  return {
    redis,
    catalog: loadCatalog(config.catalogPath),
    streams: new PriorityStreams({
      redis,
      appenders,
      keys,
      priorities: config.priorities,
      dedupWindowMs: config.dedupWindowMs,
      replicaAcks: config.replicaAcks,
    }),
    overload,
    devices: new DeviceRegistry({
      redis,
      keys,
      tokens: new DeviceTokens({ secret: config.deviceSecret, ttlSeconds: config.deviceTokenTtlSeconds }),
    }),
    traces: new EventTraces({
      redis,
      keys,
      partitions,
      windowMs: config.traceWindowMs,
      dedupWindowMs: config.dedupWindowMs,
    }),
    serviceKeys: config.serviceKeys,
    logger,
    metrics,
  };
}

/** A connection of its own for the overload monitor's PING (no auto-pipelining: its round trip is the signal). */
function pingConnection(redis: RedisClient): RedisClient {
  return isCluster(redis)
    ? redis.duplicate(undefined, { enableAutoPipelining: false, redisOptions: { ...redis.options.redisOptions, connectionName: 'herald-ingest-overload' } })
    : redis.duplicate({ connectionName: 'herald-ingest-overload', enableAutoPipelining: false });
}
