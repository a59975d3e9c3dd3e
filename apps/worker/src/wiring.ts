import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import { loadCatalog } from '@herald/catalog';
import type { EventCatalog } from '@herald/catalog';
import { ConfigError } from '@herald/config';
import type { HeraldConfig } from '@herald/config';
import { PLATFORMS, PRIORITIES } from '@herald/contracts';
import type { Priority } from '@herald/contracts';
import { DeviceRegistry, DeviceTokens, Presence } from '@herald/devices';
import { History } from '@herald/history';
import { LiveStream } from '@herald/live';
import { createLogger, createMetricsRegistry } from '@herald/runtime';
import type { Logger } from '@herald/runtime';
import { OverloadFollower } from '@herald/overload';
import { DeadLetters } from '@herald/priority-streams';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { TraceBuckets, TraceRecorder } from '@herald/trace';
import type { WorkerDeps } from './app.js';
import { createDeliveryWorkers, yieldConcurrency } from './delivery/delivery-workers.js';
import { PushCoalescer } from './delivery/push/coalescer.js';
import { createPushProviders } from './delivery/push/create-providers.js';
import type { PushProvider, PushProviders } from './delivery/push-providers.js';
import { BatchRouter } from './router/batch-router.js';
import type { DeliveryQueues } from './router/batch-router.js';
import { Router } from './router/router.js';
import { createWorkerMetrics } from './worker-metrics.js';

export interface WorkerWiringOverrides {
  /** Replaces the configured push providers (tests): one for both mobile platforms, or one each. */
  push?: PushProvider | PushProviders;
  workerId?: string;
  logger?: Logger;
  /** Certificates the APNs provider trusts besides the system's (tests, against a local stand-in). */
  apnsCa?: string;
  /** XREADGROUP BLOCK time (default 1000 ms). */
  blockMs?: number;
}

/** Everything the worker needs, built from the config and a Redis URL. */
export function createWorkerDeps(config: HeraldConfig, redisUrl: string, overrides: WorkerWiringOverrides = {}): WorkerDeps {
  const keys = createKeys(config.keyPrefix);
  const logger = overrides.logger ?? createLogger({ app: 'worker', level: config.logLevel });
  const registry = createMetricsRegistry('worker');
  const metrics = createWorkerMetrics(registry);
  const workerId = overrides.workerId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  // Built first: a key file that cannot be read stops the worker before it connects anywhere.
  // config.worker.push is there exactly when this process runs the delivery role.
  const pushConfig = config.worker.push;
  if (pushConfig === undefined && config.worker.roles.includes('delivery')) {
    throw new ConfigError("The worker's delivery role needs its push settings: load the config with loadConfig(env, 'worker').");
  }
  const pushOverride = overrides.push;
  const push: PushProviders | undefined =
    pushConfig === undefined
      ? undefined
      : pushOverride === undefined
        ? createPushProviders(pushConfig, { logger, apnsCa: overrides.apnsCa })
        : 'send' in pushOverride
          ? { ios: pushOverride, android: pushOverride }
          : pushOverride;
  const connections: RedisClient[] = [];
  const connect = (name: string, blocking = false) => {
    const client = createRedis({ url: redisUrl, clusterNodes: config.redisClusterNodes, name, blocking, autoPipelining: !blocking, logger });
    connections.push(client);
    return client;
  };
  const redis = connect('herald-worker');
  const bullConnection = connect('herald-worker-bullmq', true);
  // Each priority this process works gets connections of its own: Redis serves a connection's
  // commands in order, so on shared ones a high-priority batch's scripts and job would wait
  // behind every low-priority one queued before them.
  const lanes = new Map(
    config.worker.priorities.map((priority) => [
      priority,
      { redis: connect(`herald-worker-${priority}`), bull: connect(`herald-worker-bullmq-${priority}`, true) },
    ]),
  );
  const laneOf = (priority: Priority) => lanes.get(priority) ?? { redis, bull: bullConnection };
  const partitions = Object.fromEntries(Object.entries(config.priorities).map(([priority, settings]) => [priority, settings.partitions])) as Record<
    Priority,
    number
  >;

  const queues = Object.fromEntries(
    PRIORITIES.map((priority) => [
      priority,
      Object.fromEntries(
        PLATFORMS.map((platform) => [
          platform,
          new Queue(keys.deliveryQueue(platform, priority), { connection: laneOf(priority).bull, prefix: keys.queuePrefix(platform, priority) }),
        ]),
      ),
    ]),
  ) as Record<Priority, DeliveryQueues>;

  // Load shedding: this worker follows the level ingest publishes (and reports its own signals).
  const overload = config.overload.enabled
    ? new OverloadFollower({
        redis,
        keys,
        workerId,
        intervalMs: config.overload.intervalMs,
        maxPauseMs: config.overload.maxPauseMs,
        metrics: registry,
        logger,
      }).start()
    : undefined;

  const live = new LiveStream({ keys, maxLength: config.liveStreamLength });
  const deviceTokens = new DeviceTokens({ secret: config.deviceSecret, ttlSeconds: config.deviceTokenTtlSeconds });
  const traceBuckets = new TraceBuckets(keys, config.traceWindowMs);
  const tracesOf = (priority: Priority) => new TraceRecorder(laneOf(priority).redis, keys, traceBuckets);
  const roles = new Set(config.worker.roles);
  const catalog = roles.has('router') ? loadCatalog(config.catalogPath) : undefined;
  const batchRouter = (priority: Priority, catalog: EventCatalog) => {
    const lane = laneOf(priority).redis;
    return new BatchRouter({
      redis: lane,
      keys,
      catalog,
      devices: new DeviceRegistry({ redis: lane, keys, tokens: deviceTokens }),
      presence: new Presence({ redis: lane, keys }),
      history: new History({
        redis: lane,
        keys,
        maxLength: config.history.maxLength,
        retentionMs: config.history.retentionMs,
        dedupWindowMs: config.dedupWindowMs,
      }),
      queues: queues[priority],
      live,
      metrics,
      logger,
      traces: tracesOf(priority),
      dedupWindowMs: config.dedupWindowMs,
      deliveryAttempts: config.worker.deliveryAttempts,
      // Past the time a dead worker's batch takes to be routed again, with room to spare.
      jobDedupMs: 5 * (config.worker.leaseMs + config.worker.reclaimIdleMs),
      replicaAcks: config.replicaAcks,
      queueConnection: laneOf(priority).bull,
    });
  };
  const router =
    catalog === undefined
      ? undefined
      : new Router({
          redis,
          connect: (name) => connect(name, true),
          keys,
          workerId,
          priorities: config.worker.priorities,
          partitions,
          batchSize: config.worker.batchSize,
          concurrency: config.worker.concurrency,
          leaseMs: config.worker.leaseMs,
          reclaimIdleMs: config.worker.reclaimIdleMs,
          maxDeliveries: config.worker.maxDeliveries,
          ...(overrides.blockMs === undefined ? {} : { blockMs: overrides.blockMs }),
          routers: Object.fromEntries(config.worker.priorities.map((priority) => [priority, batchRouter(priority, catalog)])),
          yielding: overload,
          metrics,
          logger,
        });

  const deliveryWorkers =
    push === undefined
      ? []
      : config.worker.priorities.flatMap((priority) =>
          createDeliveryWorkers({
            yielding: overload,
            connection: laneOf(priority).bull,
            keys,
            priorities: [priority],
            redis: laneOf(priority).redis,
            live,
            push,
            registry: new DeviceRegistry({ redis: laneOf(priority).redis, keys, tokens: deviceTokens }),
            pushCoalescing:
              pushConfig === undefined || pushConfig.coalesceMs === 0
                ? undefined
                : {
                    coalescer: new PushCoalescer({ redis: laneOf(priority).redis, keys, windowMs: pushConfig.coalesceMs }),
                    queue: (platform, p) => queues[p][platform],
                  },
            concurrency: config.worker.deliveryConcurrency,
            metrics,
            logger,
            traces: tracesOf(priority),
          }).map((worker) => ({ priority, worker })),
        );
  overload?.onChange((follower) => yieldConcurrency(deliveryWorkers, follower, config.worker.deliveryConcurrency));

  return {
    redis,
    router,
    deliveryWorkers: deliveryWorkers.map(({ worker }) => worker),
    deadLetters: new DeadLetters({ redis, keys, partitions }),
    serviceKeys: config.serviceKeys,
    logger,
    metrics: registry,
    close: async () => {
      await overload?.stop();
      await Promise.all(Object.values(queues).flatMap((byPlatform) => Object.values(byPlatform).map((queue) => queue.close())));
      await Promise.all([...new Set(push === undefined ? [] : [push.ios, push.android])].map((provider) => provider.close?.()));
      await Promise.all(connections.map((connection) => closeRedis(connection)));
    },
  };
}
