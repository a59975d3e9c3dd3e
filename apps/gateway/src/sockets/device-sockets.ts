import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { deviceRoom } from '@herald/contracts';
import type { LivePush, Notification, Priority } from '@herald/contracts';
import type { DeviceRegistry, Presence } from '@herald/devices';
import { cursorBefore } from '@herald/history';
import type { History } from '@herald/history';
import type { Logger } from '@herald/observability';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { GatewayOptions } from '../options.js';
import { AckRecorder } from './acks.js';
import { coalesceQueuedWrites } from './coalesced-writes.js';
import { DeviceConnection } from './device-connection.js';
import type { ConnectionContext } from './device-connection.js';
import { handshake } from './handshake.js';
import { notificationAwareRedisAdapter } from './live-notifications.js';
import type { LiveNotificationSink } from './live-notifications.js';
import type { LivePushSink } from './live-lanes.js';
import { LocalDevices } from './local-devices.js';
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

/**
 * How far back before a lost subscription to the live channels a resync reads history: a push
 * is published within this long of its history append unless delivery jobs are backed up.
 */
export const RESUBSCRIBE_LOOKBACK_MS = 60_000;

/** Connections resyncing from history at once. */
const RESYNCS_IN_FLIGHT = 32;

/** Largest message a client may send (acks are tiny). */
const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

/**
 * The Socket.IO side of the gateway: handshake auth, one DeviceConnection per socket, the
 * node's presence and heartbeats, and the hand-off of live pushes from the Redis adapter.
 */
export class DeviceSockets implements LiveNotificationSink, LivePushSink {
  readonly io: GatewayServer;
  private readonly connections = new Map<string, DeviceConnection>();
  private readonly local: LocalDevices;
  private readonly context: ConnectionContext;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lifetimeTimer: NodeJS.Timeout | undefined;
  private heartbeating = false;
  private accepting = true;
  /** Per lane: when a full lane was last reported, and what it dropped since. */
  private readonly overflowWarnings = new Map<Priority, { at: number; dropped: number }>();
  private readonly resyncs = new Resyncs((socketId, after) => this.connections.get(socketId)?.resync(after) ?? Promise.resolve(), RESYNCS_IN_FLIGHT);

  constructor(
    httpServer: HttpServer,
    private readonly deps: DeviceSocketsDeps,
    private readonly options: GatewayOptions,
  ) {
    const { redis, keys, metrics, logger, now } = deps;
    this.context = {
      history: deps.history,
      acks: new AckRecorder({ redis, keys, ackRetentionMs: options.ackRetentionMs, traceTtlMs: options.traceTtlMs, now }),
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
      adapter: notificationAwareRedisAdapter(redis, deps.adapterSubscriber, keys.socketIoPrefix, this),
      transports: ['websocket', 'polling'],
      cors: { origin: options.allowedOrigins === undefined ? '*' : [...options.allowedOrigins], methods: ['GET', 'POST'] },
      connectTimeout: options.connectTimeoutMs,
      maxHttpBufferSize: MAX_CLIENT_MESSAGE_BYTES,
      serveClient: false,
    });
    this.io.use(
      handshake({ devices: deps.devices, allowedOrigins: options.allowedOrigins, accepting: () => this.accepting, metrics, logger }),
    );
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  /**
   * Starts the heartbeats (presence refresh and token re-check, every presence ttl / 3) and the
   * lifetime sweep (one timer for all connections rather than one each: less memory per socket).
   */
  start(): void {
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), Math.max(1, Math.floor(this.options.presenceTtlMs / 3)));
    this.heartbeatTimer.unref();
    const sweepMs = Math.min(1000, Math.max(10, Math.floor(this.options.connectionMaxLifetimeMs / 10)));
    this.lifetimeTimer = setInterval(() => this.endExpiredConnections(), sweepMs);
    this.lifetimeTimer.unref();
  }

  handles(socketId: string): boolean {
    return this.connections.has(socketId);
  }

  deliver(socketId: string, notification: Notification): void {
    try {
      this.connections.get(socketId)?.deliverLive(notification);
    } catch (error) {
      this.deps.logger.error({ err: error, cursor: notification.cursor }, 'delivering a live notification failed');
    }
  }

  /** A push from the live channels: to every socket of its devices on this node. */
  push({ accountId, deviceIds, notification }: LivePush): void {
    this.forEachSocket(accountId, deviceIds, (socketId) => this.deliver(socketId, notification));
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
   * Live messages dropped from a full lane: each device their pushes were for that has a socket
   * here resyncs from history, from the earliest dropped notification's cursor on.
   */
  overflowed(priority: Priority, messages: number, pushes: readonly LivePush[]): void {
    const { metrics, logger } = this.deps;
    metrics.dropped.inc({ reason: 'overflow' }, messages);
    // A full lane drops a message for each one that arrives: a warning a second per lane, with the count.
    const warning = this.overflowWarnings.get(priority) ?? { at: -Infinity, dropped: 0 };
    this.overflowWarnings.set(priority, warning);
    warning.dropped += messages;
    const now = this.deps.now();
    if (now - warning.at >= 1000) {
      logger.warn({ priority, messages: warning.dropped }, 'live lane full: dropped the oldest live messages; their devices here resync from history');
      warning.at = now;
      warning.dropped = 0;
    }
    for (const { accountId, deviceIds, notification } of pushes) {
      const after = cursorBefore(notification.cursor);
      this.forEachSocket(accountId, deviceIds, (socketId) => {
        if (this.resyncs.request(socketId, after)) metrics.resyncs.inc({ reason: 'overflow' });
      });
    }
  }

  /**
   * The live channels' subscription was down from `lostAt`: every connection here resyncs from
   * history, from RESUBSCRIBE_LOOKBACK_MS before the loss on.
   */
  resubscribed(lostAt: number): void {
    const { metrics, logger } = this.deps;
    logger.warn({ lostAt: new Date(lostAt).toISOString(), connections: this.connections.size }, 'live channels subscribed again after a loss; connections here resync from history');
    const after = cursorBefore(`${Math.max(0, lostAt - RESUBSCRIBE_LOOKBACK_MS)}-0`);
    for (const socketId of this.connections.keys()) {
      if (this.resyncs.request(socketId, after)) metrics.resyncs.inc({ reason: 'resubscribed' });
    }
  }

  invalid(payload: unknown): void {
    this.deps.metrics.dropped.inc({ reason: 'invalid' });
    this.deps.logger.warn({ payload }, 'dropped a notification broadcast that does not match the contract');
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
    this.local.add(connection).catch((error: unknown) => logger.warn({ err: error, accountId, deviceId }, 'marking a device online failed'));
    devices.touch(accountId, deviceId).catch((error: unknown) => logger.warn({ err: error, accountId, deviceId }, 'refreshing lastSeenAt failed'));
    void connection.open();
  }

  private endExpiredConnections(): void {
    const now = this.deps.now();
    for (const connection of this.connections.values()) {
      if (connection.expiresAt <= now) connection.requestReconnect('max_lifetime');
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeating) return;
    this.heartbeating = true;
    try {
      await this.local.heartbeat();
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'heartbeat failed');
    } finally {
      this.heartbeating = false;
    }
  }
}
