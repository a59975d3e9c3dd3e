import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectClient } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { loadConfig } from '@herald/config';
import type { HeraldConfig } from '@herald/config';
import { LiveBatchSchema, PRIORITIES, deviceRoom } from '@herald/contracts';
import type { AcceptedEvent, Notification, Platform } from '@herald/contracts';
import { DeviceRegistry, DeviceTokens, Presence } from '@herald/devices';
import { History } from '@herald/history';
import { PriorityStreams } from '@herald/priority-streams';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
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

/**
 * What the worker tests stand on: the real write side (PriorityStreams, as ingest uses it),
 * the device registry and presence, and a Socket.IO server standing in for the gateway (it
 * serves the live channels to the device rooms), with real socket.io-client devices joined to
 * their rooms.
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
  private io: Server | undefined;
  private port = 0;

  constructor(
    private readonly redis: TestRedis,
    env: Record<string, string> = {},
  ) {
    this.config = workerConfig(redis, env);
    this.keys = createKeys(redis.prefix);
    const { client } = redis;
    this.streams = new PriorityStreams({ redis: client, keys: this.keys, priorities: this.config.priorities, dedupWindowMs: this.config.dedupWindowMs });
    this.devices = new DeviceRegistry({ redis: client, keys: this.keys, tokens: new DeviceTokens({ secret: 'x'.repeat(32), ttlSeconds: 60 }) });
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

  /** Starts the stand-in gateway. */
  async startSockets(): Promise<void> {
    const http = createServer();
    this.io = new Server(http);
    // The live channels, as a gateway node serves them: each push to its devices' rooms.
    const live = this.connection();
    live.on('message', (_channel: string, message: string) => {
      for (const { accountId, deviceIds, notification } of LiveBatchSchema.parse(JSON.parse(message))) {
        this.io?.to(deviceIds.map((deviceId) => deviceRoom(accountId, deviceId))).emit('notification', notification);
      }
    });
    await live.subscribe(...PRIORITIES.map((priority) => this.keys.liveChannel(priority)));
    this.io.on('connection', (socket) => {
      const { accountId, deviceId } = socket.handshake.auth as { accountId: string; deviceId: string };
      void socket.join(deviceRoom(accountId, deviceId));
      socket.emit('joined' as never);
    });
    http.listen(0);
    await new Promise((resolve) => http.once('listening', resolve));
    this.port = (http.address() as AddressInfo).port;
  }

  /** Registers a device; when online, connects it and marks it present. Collects what it receives. */
  async device(accountId: string, deviceId: string, platform: Platform, options: { online?: boolean; profileId?: string; pushToken?: string } = {}) {
    await this.devices.register({
      accountId,
      deviceId,
      platform,
      ...(options.profileId === undefined ? {} : { profileId: options.profileId }),
      ...(options.pushToken === undefined ? {} : { pushToken: options.pushToken }),
    });
    const received: Notification[] = [];
    if (options.online === true) {
      const client = connectClient(`http://127.0.0.1:${this.port}`, { auth: { accountId, deviceId }, transports: ['websocket'] });
      this.clients.push(client);
      client.on('notification', (notification: Notification) => received.push(notification));
      await new Promise<void>((resolve) => client.once('joined', () => resolve()));
      await this.presence.markOnline(accountId, deviceId, 'test-gateway', 60_000);
    }
    return received;
  }

  connection(): RedisClient {
    const client = createRedis({ url: this.redis.url });
    this.extraConnections.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    await new Promise((resolve) => (this.io === undefined ? resolve(undefined) : this.io.close(() => resolve(undefined))));
    await Promise.all(this.extraConnections.map((c) => closeRedis(c)));
  }
}

/** Polls until `check` passes or `timeoutMs` runs out, then runs it one last time (so it throws). */
export async function eventually(check: () => unknown, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
