import type { Server as HttpServer } from 'node:http';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import { deviceRoom } from '@herald/contracts';
import type { LivePush, Priority } from '@herald/contracts';
import type { DeviceRegistry, Presence } from '@herald/devices';
import type { History } from '@herald/history';
import type { Logger } from '@herald/runtime';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { GatewayOptions } from '../options.js';
import { AckRecorder } from './acks.js';
import { coalesceQueuedWrites } from './coalesced-writes.js';
import { DeviceConnection } from './device-connection.js';
import type { ConnectionContext } from './device-connection.js';
import { handshake } from './handshake.js';
import type { LiveFeedSink, LivePushTrace } from './live-feed.js';
import { LocalDevices } from './local-devices.js';
import { SentTraces } from './sent-traces.js';
import { Resyncs } from './resyncs.js';
import type { GatewayServer, GatewaySocket } from './types.js';

export interface DeviceSocketsDeps {
  redis: RedisClient;
  adapterSubscriber: RedisClient;
  keys: KeyBuilder;
  devices: DeviceRegistry;
  presence: Presence;
  history: History;
  metrics: GatewayMetrics;
  logger: Logger;
  now: () => number;
}

/**
 * Lets the handshake's HTTP request be garbage-collected (engine.io keeps it on the connection
 * for its whole life; its headers stay in `socket.handshake`). It frees the request of polling
 * sessions; for WebSocket upgrades engine.io holds it elsewhere too (engine.io 6.6).
 * See https://socket.io/docs/v4/memory-usage/.
 */
function releaseHandshakeRequest(socket: GatewaySocket): void {
  Reflect.set(socket.conn, 'request', null);
}

/** Connections resyncing from history at once. */
const RESYNCS_IN_FLIGHT = 32;

/** Largest message a client may send (acks are tiny). */
const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

/**
 * The Socket.IO side of the gateway: handshake auth, one DeviceConnection per socket, the
 * node's presence and heartbeats, and the hand-off of live pushes from the live feed to the
 * connections of their devices. The Socket.IO Redis adapter is installed for cross-node room
 * operations; live pushes do not go through it.
 */
export class DeviceSockets implements LiveFeedSink {
  readonly io: GatewayServer;
  private readonly connections = new Map<string, DeviceConnection>();
  private readonly local: LocalDevices;
  private readonly context: ConnectionContext;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lifetimeTimer: NodeJS.Timeout | undefined;
  private heartbeating = false;
  /** When presence was last refreshed for every device here (see `heartbeat`). */
  private presenceRefreshedAt = 0;
  private accepting = true;
  private readonly resyncs = new Resyncs((socketId) => this.connections.get(socketId)?.resync() ?? Promise.resolve(), RESYNCS_IN_FLIGHT);

  constructor(
    httpServer: HttpServer,
    private readonly deps: DeviceSocketsDeps,
    private readonly options: GatewayOptions,
  ) {
    const { redis, keys, metrics, logger, now } = deps;
    this.context = {
      history: deps.history,
      acks: new AckRecorder({ redis, keys, ackRetentionMs: options.ackRetentionMs, traceTtlMs: options.traceTtlMs, now }),
      sent: new SentTraces({ redis, keys, ttlMs: options.traceTtlMs, now, logger }),
      options,
      metrics,
      logger,
      now,
    };
    this.local = new LocalDevices({
      devices: deps.devices,
      presence: deps.presence,
      nodeId: options.nodeId,
      presenceTtlMs: options.presenceTtlMs,
      // Announces this node's connections and devices (the dashboard's devices online).
      nodes: { redis, keys },
      metrics,
      logger,
      now,
    });
    this.io = new Server(httpServer, {
      // Sharded pub/sub (Redis 7): on a Cluster each channel lives on one master instead of being
      // copied to every node. Static: two channels per node, not one per device room.
      adapter: createShardedAdapter(redis, deps.adapterSubscriber, { channelPrefix: keys.socketIoPrefix, subscriptionMode: 'static' }),
      transports: ['websocket', 'polling'],
      cors: { origin: options.allowedOrigins === undefined ? '*' : [...options.allowedOrigins], methods: ['GET', 'POST'] },
      connectTimeout: options.connectTimeoutMs,
      maxHttpBufferSize: MAX_CLIENT_MESSAGE_BYTES,
      serveClient: false,
    });
    this.io.use(handshake({ devices: deps.devices, allowedOrigins: options.allowedOrigins, accepting: () => this.accepting, metrics, logger }));
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  /**
   * Starts the heartbeats (presence refresh and token re-check, every presence ttl / 3) and the
   * lifetime sweep (one timer for all connections rather than one each: less memory per socket).
   */
  start(): void {
    this.presenceRefreshedAt = this.deps.now();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), Math.max(1, Math.floor(this.options.presenceTtlMs / 3)));
    this.heartbeatTimer.unref();
    const sweepMs = Math.min(1000, Math.max(10, Math.floor(this.options.connectionMaxLifetimeMs / 10)));
    this.lifetimeTimer = setInterval(() => this.endExpiredConnections(), sweepMs);
    this.lifetimeTimer.unref();
  }

  /** A push from the live feed: to every socket of its devices on this node. */
  push(push: LivePush, trace: LivePushTrace | undefined): void {
    this.forEachSocket(push.accountId, push.deviceIds, (socketId) => {
      try {
        this.connections.get(socketId)?.deliverLive(push, trace);
      } catch (error) {
        this.deps.logger.error({ err: error, cursor: push.notification.cursor }, 'delivering a live push failed');
      }
    });
  }

  /** Calls `visit` with each socket on this node of these devices of an account (each device's room). */
  private forEachSocket(accountId: string, deviceIds: readonly string[], visit: (socketId: string) => void): void {
    const rooms = this.io.of('/').adapter.rooms;
    for (const deviceId of deviceIds) {
      const socketIds = rooms.get(deviceRoom(accountId, deviceId));
      if (socketIds !== undefined) for (const socketId of socketIds) visit(socketId);
    }
  }

  /**
   * This node can no longer read a partition's live stream from its position: every connection
   * here reads history after its delivered cursor (exact, so nothing goes out twice).
   */
  lost(priority: Priority, partition: number): void {
    this.deps.logger.warn(
      { priority, partition, connections: this.connections.size },
      'live pushes of a partition lost on this node; connections here read history after their delivered cursors',
    );
    for (const socketId of this.connections.keys()) this.resyncs.request(socketId);
  }

  invalid(payload: unknown): void {
    this.deps.metrics.dropped.inc({ reason: 'invalid' });
    this.deps.logger.warn({ payload }, 'dropped a live message that does not match the contract');
  }

  /**
   * Shutting down: refuse new handshakes, ask every client to reconnect (to another node),
   * mark this node's devices offline, then close Socket.IO (which starts closing the HTTP server).
   */
  async close(): Promise<void> {
    this.accepting = false;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.lifetimeTimer);
    for (const connection of this.connections.values()) connection.requestReconnect('shutting_down');
    await this.local.clear().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'marking devices offline failed'));
    // Closes the engine and the adapter, and starts closing the HTTP server (the caller awaits it).
    await this.io.close();
  }

  private onConnection(socket: GatewaySocket): void {
    const { metrics, logger, devices } = this.deps;
    releaseHandshakeRequest(socket);
    coalesceQueuedWrites(socket.conn);
    const connection = new DeviceConnection(socket, this.context);
    const { accountId, deviceId } = connection.device;
    this.connections.set(socket.id, connection);
    metrics.connections.inc();
    socket.once('disconnect', () => {
      connection.close();
      this.connections.delete(socket.id);
      metrics.connections.dec();
      this.local.remove(connection).catch((error: unknown) => logger.warn({ err: error, accountId, deviceId }, 'marking a device offline failed'));
    });
    devices.touch(accountId, deviceId).catch((error: unknown) => logger.warn({ err: error, accountId, deviceId }, 'refreshing lastSeenAt failed'));
    // Online before the replay reads history: the router reads presence after its history
    // append, so every entry is either read by the replay or pushed to this device.
    void this.local
      .add(connection)
      .catch((error: unknown) => logger.warn({ err: error, accountId, deviceId }, 'marking a device online failed'))
      .then(() => (socket.connected ? connection.open() : undefined));
  }

  private endExpiredConnections(): void {
    const now = this.deps.now();
    for (const connection of this.connections.values()) {
      if (connection.expiresAt <= now) connection.requestReconnect('max_lifetime');
    }
  }

  /**
   * Refreshes presence. When the last refresh that reached every device is older than the
   * presence ttl, this node's devices may have looked offline to the router meanwhile (Redis
   * unreachable, or this process stalled), and entries routed then were not pushed to them:
   * every connection reads history after its delivered cursor.
   */
  private async heartbeat(): Promise<void> {
    if (this.heartbeating) return;
    this.heartbeating = true;
    try {
      const refreshed = await this.local.heartbeat();
      const now = this.deps.now();
      if (refreshed) {
        if (now - this.presenceRefreshedAt > this.options.presenceTtlMs) {
          this.deps.logger.warn(
            { connections: this.connections.size },
            'presence may have lapsed; connections here read history after their delivered cursors',
          );
          for (const socketId of this.connections.keys()) this.resyncs.request(socketId);
        }
        this.presenceRefreshedAt = now;
      }
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'heartbeat failed');
    } finally {
      this.heartbeating = false;
    }
  }
}
