import { Queue } from 'bullmq';
import { expect } from 'chai';
import { io as connectClient } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { loadConfig } from '@herald/config';
import type { HeraldConfig } from '@herald/config';
import type { AcceptedEvent, Notification, Platform, Priority } from '@herald/contracts';
import { DeviceRegistry, DeviceTokens, Presence } from '@herald/devices';
import { createGateway } from '@herald/gateway';
import type { Gateway } from '@herald/gateway';
import { History } from '@herald/history';
import { createLogger, createMetricsRegistry } from '@herald/runtime';
import { PriorityStreams } from '@herald/priority-streams';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { waitFor } from '@herald/testing';
import type { TestRedis } from '@herald/testing';

/** The config of a worker in a test: the test's prefix, 2 partitions, short leases, no logs. */
export function workerConfig(redis: TestRedis, env: Record<string, string> = {}): HeraldConfig {
  return loadConfig(
    {
      HERALD_KEY_PREFIX: redis.prefix,
      HERALD_LOG_LEVEL: 'silent',
      HERALD_PARTITIONS_HIGH: '2',
      HERALD_PARTITIONS_MEDIUM: '2',
      HERALD_PARTITIONS_LOW: '2',
      HERALD_WORKER_LEASE_MS: '600',
      HERALD_WORKER_RECLAIM_IDLE_MS: '400',
      ...env,
    },
    'worker',
  );
}

/** The device-token secret of the worker tests (the fixture's gateway checks it). */
const SECRET = 'x'.repeat(32);

/**
 * What the worker tests stand on: the real write side (PriorityStreams, as ingest uses it),
 * the device registry and presence, and a real gateway node, with real socket.io-client
 * devices connected to it: live delivery goes the production way (live streams → gateway).
 */
export class WorkerFixture {
  readonly config: HeraldConfig;
  readonly keys: KeyBuilder;
  readonly streams: PriorityStreams;
  readonly devices: DeviceRegistry;
  readonly presence: Presence;
  readonly history: History;
  private readonly clients: Socket[] = [];
  private readonly extraConnections: RedisClient[] = [];
  private gateway: Gateway | undefined;
  private port = 0;

  constructor(
    private readonly redis: TestRedis,
    env: Record<string, string> = {},
  ) {
    this.config = workerConfig(redis, env);
    this.keys = createKeys(redis.prefix);
    const { client } = redis;
    this.streams = new PriorityStreams({ redis: client, keys: this.keys, priorities: this.config.priorities, dedupWindowMs: this.config.dedupWindowMs });
    this.devices = new DeviceRegistry({ redis: client, keys: this.keys, tokens: new DeviceTokens({ secret: SECRET, ttlSeconds: 60 }) });
    this.presence = new Presence({ redis: client, keys: this.keys });
    this.history = new History({ redis: client, keys: this.keys });
  }

  /** Appends events to the priority streams as ingest would. */
  async accept(events: (Partial<AcceptedEvent> & { id: string; accountId: string })[]): Promise<void> {
    const now = Date.now();
    const results = await this.streams.append(
      events.map((e) => ({ type: 'plan.changed', priority: 'high', createdAt: now, acceptedAt: now, payload: {}, ...e })),
    );
    if (results.some((r) => r.status !== 'accepted')) throw new Error(`not accepted: ${JSON.stringify(results)}`);
  }

  /** Starts a gateway node on a free port (for web and TV devices). */
  async startSockets(): Promise<void> {
    const redis = createRedis({ url: this.redis.url, autoPipelining: true });
    this.extraConnections.push(redis);
    const { keys, config } = this;
    this.gateway = createGateway(
      {
        redis,
        adapterSubscriber: this.connection({ shardedSubscriber: true }),
        historySubscriber: this.connection({ shardedSubscriber: true }),
        liveSubscriber: this.connection({ shardedSubscriber: true }),
        keys,
        devices: new DeviceRegistry({ redis, keys, tokens: new DeviceTokens({ secret: SECRET, ttlSeconds: 60 }) }),
        presence: new Presence({ redis, keys }),
        history: new History({ redis, keys }),
        logger: createLogger({ app: 'worker-test-gateway', level: 'silent' }),
        metrics: createMetricsRegistry('worker-test-gateway'),
      },
      { partitions: { high: config.priorities.high.partitions, medium: config.priorities.medium.partitions, low: config.priorities.low.partitions } },
    );
    this.port = await this.gateway.listen(0, '127.0.0.1');
  }

  /** Registers a device; when online, connects it and marks it present. Collects what it receives. */
  async device(accountId: string, deviceId: string, platform: Platform, options: { online?: boolean; profileId?: string; pushToken?: string } = {}) {
    const { token } = await this.devices.register({
      accountId,
      deviceId,
      platform,
      ...(options.profileId === undefined ? {} : { profileId: options.profileId }),
      ...(options.pushToken === undefined ? {} : { pushToken: options.pushToken }),
    });
    const received: Notification[] = [];
    if (options.online === true) {
      // Every receipt on the socket, as it comes: no duplicate filter.
      const client = connectClient(`http://127.0.0.1:${this.port}`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
      this.clients.push(client);
      client.on('notification', (notification: Notification) => received.push(notification));
      // The gateway marks the device online before it replays and sends `synced`.
      await new Promise<void>((resolve) => client.once('synced', () => resolve()));
    }
    return received;
  }

  /**
   * Waits until a delivery queue holds no job that is waiting, delayed (a retry, a trailing
   * coalesced signal) or running: nothing already routed can send anything more on it. The
   * positive marker to wait for, after what was expected arrived, before asserting that
   * something else was not sent (no retry, no signal to another device).
   */
  async deliveryIdle(platform: Platform, priority: Priority = 'high'): Promise<void> {
    const queue = new Queue(this.keys.deliveryQueue(platform, priority), { connection: this.connection(), prefix: this.keys.queuePrefix(platform, priority) });
    try {
      await waitFor(`the ${platform} ${priority} delivery queue to be idle`, async () => {
        const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'waiting-children', 'active');
        expect(Object.entries(counts).filter(([, count]) => count > 0)).to.deep.equal([]);
      });
    } finally {
      await queue.close();
    }
  }

  /** A connection of the test's own, closed with the fixture (`shardedSubscriber` for one that will SSUBSCRIBE). */
  connection(options: { shardedSubscriber?: boolean } = {}): RedisClient {
    const client = createRedis({ url: this.redis.url, ...options });
    this.extraConnections.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    await this.gateway?.close();
    await Promise.all(this.extraConnections.map((c) => closeRedis(c)));
  }
}
