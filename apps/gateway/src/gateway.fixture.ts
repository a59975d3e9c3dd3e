import { io as connectClient } from 'socket.io-client';
import type { Socket as ClientSocket } from 'socket.io-client';
import { encodeLiveMessages, encodeLivePush, livePushPosition } from '@herald/contracts';
import type { ClientToServerEvents, Notification, Platform, ServerToClientEvents, Synced } from '@herald/contracts';
import { DeviceRegistry, DeviceTokens, Presence } from '@herald/devices';
import { History, toNotification } from '@herald/history';
import type { AppendOutcome, HistoryEntry, HistoryOptions } from '@herald/history';
import { LiveStream } from '@herald/live';
import { partitionOf } from '@herald/priority-streams';
import { createLogger, createMetricsRegistry } from '@herald/runtime';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { waitFor } from '@herald/testing';
import type { TestRedis } from '@herald/testing';
import { TraceBuckets, parseLiveSent, traceField } from '@herald/trace';
import { createGateway } from './index.js';
import type { Gateway, GatewayOptionsInput } from './index.js';

export const SECRET = 'gateway-test-secret-gateway-test-secret';

/** Stream partitions per priority in these tests (the gateway's default). */
const PARTITIONS = 4;

export type DeviceClient = ClientSocket<ServerToClientEvents, ClientToServerEvents>;

export interface TestNode {
  gateway: Gateway;
  url: string;
  /** Closes the node gracefully (the test's afterEach does it too). */
  close(): Promise<void>;
}

/** A connected (or refused) device socket and everything it received. */
export interface Device {
  socket: DeviceClient;
  notifications: Notification[];
  synced: Synced[];
  errors: { code: string; message: string }[];
  reconnectRequests: string[];
}

export interface ClientOptions {
  extraHeaders?: Record<string, string>;
  /** Answer each notification's ack callback. */
  ackWith?: 'callback' | 'none';
  transports?: ('websocket' | 'polling')[];
}

/**
 * The account the tests use unless they name another: on a 3-master Cluster its keys and those
 * of its partitions (of every priority, with 4 partitions) are on different masters, so a test
 * on a cluster run crosses masters as production does.
 */
export const ACCOUNT = 'alice';

export function entry(id: string, devices: string[], extra: Partial<HistoryEntry> = {}, accountId = ACCOUNT): HistoryEntry {
  return {
    id,
    type: 'mylist.updated',
    priority: 'medium',
    accountId,
    createdAt: 1_700_000_000_000,
    acceptedAt: 1_700_000_000_000,
    payload: { id },
    devices,
    ...extra,
  };
}

/**
 * Gateway nodes, devices and history against the test's Redis and prefix; everything opened is
 * closed after each test. Read the fields inside tests.
 */
export function useGateways(redis: TestRedis, historyOptions: Partial<HistoryOptions> = {}) {
  const opened: (() => Promise<void>)[] = [];
  let batches = 0;
  /** Where each pushed event's live pushes are traced (see `liveSends`). */
  const livePushes = new Map<string, { key: string; field: string; index: number; deviceIds: string[] }[]>();
  const traceKey = (priority: HistoryEntry['priority'], partition: number) => new TraceBuckets(context.keys, 3_600_000).key(priority, partition, Date.now());
  const clients: DeviceClient[] = [];
  const context = {
    keys: undefined as unknown as KeyBuilder,
    registry: undefined as unknown as DeviceRegistry,
    history: undefined as unknown as History,
    presence: undefined as unknown as Presence,
  };

  beforeEach(() => {
    context.keys = createKeys(redis.prefix);
    context.registry = new DeviceRegistry({ redis: redis.client, keys: context.keys, tokens: new DeviceTokens({ secret: SECRET, ttlSeconds: 3600 }) });
    context.history = new History({ redis: redis.client, keys: context.keys, ...historyOptions });
    context.presence = new Presence({ redis: redis.client, keys: context.keys });
    livePushes.clear();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    for (const close of opened.splice(0).reverse()) await close();
  });

  const connection = (name: string): RedisClient => {
    const client = createRedis({ url: redis.url, name, autoPipelining: name.endsWith('cmd'), shardedSubscriber: name.endsWith('-sub') });
    opened.push(() => closeRedis(client));
    return client;
  };

  return {
    get keys() {
      return context.keys;
    },
    get registry() {
      return context.registry;
    },
    get history() {
      return context.history;
    },
    get presence() {
      return context.presence;
    },

    /** Starts a gateway node on a free port; `now` is its clock (heartbeats, presence, token checks), Date.now unless given. */
    async startNode(options: GatewayOptionsInput = {}, now: () => number = Date.now): Promise<TestNode> {
      const redisCmd = connection('gw-test-cmd');
      const keys = context.keys;
      const gateway = createGateway(
        {
          redis: redisCmd,
          adapterSubscriber: connection('gw-test-adapter-sub'),
          historySubscriber: connection('gw-test-history-sub'),
          liveSubscriber: connection('gw-test-live-sub'),
          keys,
          devices: new DeviceRegistry({ redis: redisCmd, keys, tokens: new DeviceTokens({ secret: SECRET, ttlSeconds: 3600, now }), now }),
          presence: new Presence({ redis: redisCmd, keys, now }),
          history: new History({ redis: redisCmd, keys, ...historyOptions }),
          logger: createLogger({ app: 'gateway-test', level: 'silent' }),
          metrics: createMetricsRegistry('gateway-test'),
          now,
        },
        options,
      );
      const port = await gateway.listen(0, '127.0.0.1');
      const close = () => gateway.close();
      opened.push(close);
      return { gateway, url: `http://127.0.0.1:${port}`, close };
    },

    /** Registers a device and returns its token. */
    async register(deviceId: string, accountId = ACCOUNT, platform: Platform = 'tv'): Promise<string> {
      return (await context.registry.register({ accountId, platform, deviceId })).token;
    },

    /** A socket.io-client socket with everything it receives recorded; no automatic reconnection. */
    open(url: string, auth: Record<string, unknown>, options: ClientOptions = {}): Device {
      const socket: DeviceClient = connectClient(url, {
        transports: options.transports ?? ['websocket'],
        auth,
        reconnection: false,
        forceNew: true,
        ...(options.extraHeaders === undefined ? {} : { extraHeaders: options.extraHeaders }),
      });
      clients.push(socket);
      const device: Device = { socket, notifications: [], synced: [], errors: [], reconnectRequests: [] };
      socket.on('notification', (notification, ack) => {
        device.notifications.push(notification);
        if (options.ackWith === 'callback') ack?.();
      });
      socket.on('synced', (synced) => device.synced.push(synced));
      socket.on('error', (error) => device.errors.push(error));
      socket.on('reconnect_requested', ({ reason }) => device.reconnectRequests.push(reason));
      return device;
    },

    /** Connects and waits for `synced`. */
    async connect(url: string, auth: Record<string, unknown>, options: ClientOptions = {}): Promise<Device> {
      const device = this.open(url, auth, options);
      await waitFor('synced', () => device.synced.length > 0);
      return device;
    },

    /** Resolves with the connect_error a refused handshake gets. */
    async refusal(
      url: string,
      auth: Record<string, unknown>,
      extraHeaders?: Record<string, string>,
    ): Promise<Error & { data?: { code: string; message: string; details?: unknown[] } }> {
      const device = this.open(url, auth, extraHeaders === undefined ? {} : { extraHeaders });
      return new Promise((resolve, reject) => {
        device.socket.once('connect_error', resolve);
        device.socket.once('connect', () => reject(new Error('the handshake was accepted')));
      });
    },

    /**
     * The worker's side, as the router and the delivery do it: appends entries to their
     * account's history, then sends a live push of each appended one to `pushTo` of its devices
     * (default: all of them) on its partition's live stream. Resolves with the append outcomes.
     */
    async deliver(accountId: string, entries: HistoryEntry[], pushTo?: (entry: HistoryEntry) => string[]): Promise<AppendOutcome[]> {
      const outcomes = await context.history.append(accountId, entries);
      await this.push(entries.map((e, i) => ({ entry: e, outcome: outcomes[i]!, deviceIds: pushTo?.(e) ?? e.devices })));
      return outcomes;
    },

    /**
     * The delivery's part alone: live pushes of appended entries, one router batch per priority
     * and partition, in order, with their trace fields as the router names them (see `liveSends`).
     */
    async push(pushes: { entry: HistoryEntry; outcome: AppendOutcome; deviceIds: string[] }[]): Promise<void> {
      const byPartition = new Map<string, { priority: HistoryEntry['priority']; partition: number; batch: string; messages: string[] }>();
      for (const { entry: e, outcome, deviceIds } of pushes) {
        if (deviceIds.length === 0) continue;
        const partition = partitionOf(e.accountId, PARTITIONS);
        const key = `${e.priority}:${partition}`;
        let group = byPartition.get(key);
        if (group === undefined) byPartition.set(key, (group = { priority: e.priority, partition, batch: `test-${++batches}`, messages: [] }));
        const [message, index] = livePushPosition(group.messages.length);
        const sends = livePushes.get(e.id) ?? [];
        livePushes.set(e.id, [...sends, { key: traceKey(e.priority, partition), field: traceField.liveSent(group.batch, 'tv', message), index, deviceIds }]);
        group.messages.push(encodeLivePush(e.accountId, deviceIds, outcome.prev, JSON.stringify(toNotification(outcome.cursor, e))));
      }
      for (const { priority, partition, batch, messages } of byPartition.values()) {
        const trace = { key: traceKey(priority, partition), field: (message: number) => traceField.liveSent(batch, 'tv', message) };
        await this.appendLive(priority, partition, encodeLiveMessages(messages, trace), batch);
      }
    },

    /** Live messages into a partition's live stream, as the router stages them and the delivery moves them. */
    async appendLive(priority: HistoryEntry['priority'], partition: number, messages: string[], batch = `test-${++batches}`): Promise<void> {
      const live = new LiveStream({ keys: context.keys });
      const staged = context.keys.liveStaged(priority, partition, batch, 'tv');
      await live.stage(redis.client, staged, messages);
      await live.appendStaged(redis.client, priority, partition, staged);
    },

    /** The devices gateways recorded, in the router batches' traces, as sent an event's live pushes (once per send). */
    async liveSends(eventId: string): Promise<string[]> {
      const devices: string[] = [];
      for (const { key, field, index, deviceIds } of livePushes.get(eventId) ?? []) {
        const value = (await redis.client.hget(key, field)) ?? '';
        for (const sent of parseLiveSent(value)) if (sent.push === index) devices.push(deviceIds[sent.device]!);
      }
      return devices;
    },
  };
}
