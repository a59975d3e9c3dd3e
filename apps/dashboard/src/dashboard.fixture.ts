import type { AddressInfo } from 'node:net';
import { MetricsTime, Queue, Worker } from 'bullmq';
import { loadConfig } from '@herald/config';
import type { HeraldConfig } from '@herald/config';
import type { AcceptedEvent, Platform, Priority } from '@herald/contracts';
import { PriorityStreams } from '@herald/priority-streams';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { useTestRedis } from '@herald/testing';
import type { TestRedis } from '@herald/testing';
import { createDashboardApp, createDashboardDeps } from './index.js';
import type { DashboardApp, DashboardDeps, DashboardWiringOverrides } from './index.js';

export const ADMIN = 'Basic ' + Buffer.from('admin:admin').toString('base64');

export interface RunningDashboard {
  base: string;
  config: HeraldConfig;
  keys: KeyBuilder;
  deps: DashboardDeps;
  app: DashboardApp;
  /** fetch against the dashboard, logged in as admin/admin unless `authorization` is given. */
  request(path: string, init?: RequestInit & { authorization?: string | null }): Promise<Response>;
}

/**
 * A dashboard against the test's Redis and prefix (2 partitions per priority, no logs, no
 * caching of the overview so each read is fresh), plus the writers the tests play: priority
 * streams as ingest appends them, BullMQ queues and workers as the worker runs them.
 * Everything opened is closed after each test, before the test's keys are deleted.
 */
export function useDashboard() {
  const closers: (() => Promise<void>)[] = [];
  // Registered before useTestRedis's own afterEach, so it runs first.
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  const redis: TestRedis = useTestRedis();

  const config = (env: Record<string, string> = {}) =>
    loadConfig(
      {
        HERALD_KEY_PREFIX: redis.prefix,
        HERALD_LOG_LEVEL: 'silent',
        HERALD_PARTITIONS_HIGH: '2',
        HERALD_PARTITIONS_MEDIUM: '2',
        HERALD_PARTITIONS_LOW: '2',
        ...env,
      },
      'dashboard',
    );

  async function start(env: Record<string, string> = {}, overrides: DashboardWiringOverrides = {}, redisUrl = redis.url): Promise<RunningDashboard> {
    const cfg = config(env);
    const deps = createDashboardDeps(cfg, redisUrl, { overviewMaxAgeMs: 0, rateMinIntervalMs: 0, tapBlockMs: 100, ...overrides });
    const app = createDashboardApp(deps);
    const server = app.http.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    closers.push(async () => {
      server.close();
      await app.close();
      server.closeAllConnections();
      await deps.close();
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      base,
      config: cfg,
      keys: createKeys(redis.prefix),
      deps,
      app,
      request: (path, { authorization, headers, ...init } = {}) =>
        fetch(`${base}${path}`, {
          ...init,
          headers: { ...(authorization === null ? {} : { authorization: authorization ?? ADMIN }), ...Object.fromEntries(new Headers(headers)) },
        }),
    };
  }

  /** A connection of the test's own, closed after the test. */
  function connection(blocking = false): RedisClient {
    const client = createRedis({ url: redis.url, name: 'herald-test-dashboard', blocking });
    closers.push(() => closeRedis(client));
    return client;
  }

  /** The write side of the priority streams, as ingest uses it (traces kept an hour). */
  function streams(): PriorityStreams {
    const cfg = config();
    return new PriorityStreams({ redis: redis.client, keys: createKeys(redis.prefix), priorities: cfg.priorities, dedupWindowMs: cfg.dedupWindowMs });
  }

  /** A delivery queue as the worker's router adds to it. */
  function queue(platform: Platform, priority: Priority): Queue {
    const keys = createKeys(redis.prefix);
    const q = new Queue(keys.deliveryQueue(platform, priority), { connection: connection(true), prefix: keys.queuePrefix(platform, priority) });
    closers.push(() => q.close());
    return q;
  }

  /**
   * Runs a delivery worker on one queue until it has finished `count` jobs, then stops it. A job
   * whose data has `fail: true` fails (once: one attempt), as when a push provider is down.
   */
  async function runJobs(platform: Platform, priority: Priority, count: number): Promise<void> {
    const keys = createKeys(redis.prefix);
    let finished = 0;
    await new Promise<void>((resolve) => {
      const worker = new Worker(
        keys.deliveryQueue(platform, priority),
        async (job) => {
          if ((job.data as { fail?: boolean }).fail === true) throw new Error('push provider down');
        },
        // Metrics on, as the worker's delivery workers run: the overview's failure rate reads them.
        { connection: connection(true), prefix: keys.queuePrefix(platform, priority), metrics: { maxDataPoints: MetricsTime.ONE_WEEK } },
      );
      const onFinished = () => {
        if (++finished === count) void worker.close().then(() => resolve());
      };
      worker.on('completed', onFinished);
      worker.on('failed', onFinished);
    });
  }

  /** Redis's clock, epoch ms. */
  async function redisNow(): Promise<number> {
    const [seconds, micros] = await redis.client.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  return { redis, config, start, connection, streams, queue, runJobs, redisNow };
}

/** An accepted event as ingest builds it. */
export function acceptedEvent(id: string, accountId: string, priority: Priority = 'high', acceptedAt = Date.now()): AcceptedEvent {
  return {
    id,
    type: priority === 'high' ? 'plan.changed' : priority === 'medium' ? 'mylist.updated' : 'recommendations.updated',
    priority,
    accountId,
    payload: {},
    createdAt: acceptedAt,
    acceptedAt,
  };
}
