import type { HeraldConfig } from '@herald/config';
import { DeviceRegistry, DeviceTokens, Presence } from '@herald/devices';
import { History } from '@herald/history';
import { createLogger, createMetricsRegistry } from '@herald/runtime';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import type { GatewayDeps } from './gateway.js';
import type { GatewayOptionsInput } from './options.js';

export interface GatewayWiring {
  deps: GatewayDeps;
  options: GatewayOptionsInput;
  /** Closes the Redis connections (after the gateway is closed). */
  closeConnections(): Promise<void>;
}

/** Everything a gateway node needs, built from the config: four Redis connections, stores, logger, metrics. */
export function createGatewayWiring(config: HeraldConfig, redisUrl: string): GatewayWiring {
  const keys = createKeys(config.keyPrefix);
  const logger = createLogger({ app: 'gateway', level: config.logLevel });
  // Connection errors are logged (ioredis reconnects by itself), not thrown as unhandled events.
  const connect = (name: string, subscriber = false) =>
    createRedis({ url: redisUrl, clusterNodes: config.redisClusterNodes, name, autoPipelining: !subscriber, shardedSubscriber: subscriber, logger });
  const redis = connect('herald-gateway');
  // Each SSUBSCRIBEs (sharded pub/sub: on a Cluster, a subscriber per master).
  const adapterSubscriber = connect('herald-gateway-adapter-sub', true);
  const historySubscriber = connect('herald-gateway-history-sub', true);
  const liveSubscriber = connect('herald-gateway-live-sub', true);
  const deps: GatewayDeps = {
    redis,
    adapterSubscriber,
    historySubscriber,
    liveSubscriber,
    keys,
    devices: new DeviceRegistry({
      redis,
      keys,
      tokens: new DeviceTokens({ secret: config.deviceSecret, ttlSeconds: config.deviceTokenTtlSeconds }),
    }),
    presence: new Presence({ redis, keys }),
    history: new History({ redis, keys, maxLength: config.history.maxLength, retentionMs: config.history.retentionMs }),
    logger,
    metrics: createMetricsRegistry('gateway'),
  };
  const { nodeId, presenceTtlMs, connectionMaxLifetimeMs, lifetimeDitherMs, allowedOrigins, liveLaneLimit } = config.gateway;
  const options: GatewayOptionsInput = {
    ...(nodeId === undefined ? {} : { nodeId }),
    presenceTtlMs,
    connectionMaxLifetimeMs,
    lifetimeDitherMs,
    allowedOrigins,
    liveLaneLimit,
    partitions: { high: config.priorities.high.partitions, medium: config.priorities.medium.partitions, low: config.priorities.low.partitions },
    ackRetentionMs: config.history.retentionMs,
    // Acks join the event's trace for as long as the rest of it is kept (not at all when tracing is off).
    traceTtlMs: config.traceWindowMs,
  };
  return {
    deps,
    options,
    closeConnections: async () => {
      await Promise.all([closeRedis(redis), closeRedis(adapterSubscriber), closeRedis(historySubscriber), closeRedis(liveSubscriber)]);
    },
  };
}
