import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { PRIORITIES } from '@herald/contracts';
import type { DeviceRegistry, Presence } from '@herald/devices';
import type { History } from '@herald/history';
import { LiveStream } from '@herald/live';
import type { Logger, Registry } from '@herald/runtime';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { createGatewayApp } from './app.js';
import { createGatewayMetrics } from './gateway-metrics.js';
import { resolveGatewayOptions } from './options.js';
import type { GatewayOptions, GatewayOptionsInput } from './options.js';
import { HistoryWakeups } from './pull/history-wakeups.js';
import { Puller } from './pull/puller.js';
import { DeviceSockets } from './sockets/device-sockets.js';
import { LiveFeed } from './sockets/live-feed.js';
import type { GatewayServer } from './sockets/types.js';

/** How long requests in flight may take to finish when the node shuts down. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface GatewayDeps {
  /** Commands, and the Socket.IO adapter's publishing side. */
  redis: RedisClient;
  /** Put in subscriber mode by the Socket.IO Redis adapter. */
  adapterSubscriber: RedisClient;
  /** Put in subscriber mode for the history shard channels (long-poll wake-ups). */
  historySubscriber: RedisClient;
  /** Put in subscriber mode for the live streams' shard channels (the delivery's pushes to web and TV devices). */
  liveSubscriber: RedisClient;
  keys: KeyBuilder;
  devices: DeviceRegistry;
  presence: Presence;
  history: History;
  logger: Logger;
  metrics: Registry;
  now?: () => number;
}

export interface Gateway {
  readonly options: GatewayOptions;
  readonly app: Express;
  readonly httpServer: HttpServer;
  readonly io: GatewayServer;
  /** Subscribes, starts heartbeats and listens; resolves with the bound port (pass 0 for any). */
  listen(port: number, host?: string): Promise<number>;
  /**
   * Graceful stop: refuse new connections, answer waiting long-polls, ask every socket to
   * reconnect (elsewhere), mark this node's devices offline, close. Redis connections are the
   * caller's to close afterwards.
   */
  close(): Promise<void>;
}

/** Builds one gateway node: Socket.IO (with the Redis adapter) and the pull API on one HTTP server. */
export function createGateway(deps: GatewayDeps, input: GatewayOptionsInput = {}): Gateway {
  const options = resolveGatewayOptions(input);
  const now = deps.now ?? Date.now;
  const metrics = createGatewayMetrics(deps.metrics);
  const historyChannels = PRIORITIES.flatMap((priority) =>
    Array.from({ length: options.partitions[priority] }, (_, n) => deps.keys.historyAppended(priority, n)),
  );
  const wakeups = new HistoryWakeups(deps.historySubscriber, historyChannels, deps.logger);
  const puller = new Puller({ history: deps.history, wakeups, metrics, now });
  let closing: Promise<void> | undefined;
  const app = createGatewayApp({
    redis: deps.redis,
    devices: deps.devices,
    puller,
    allowedOrigins: options.allowedOrigins,
    accepting: () => closing === undefined,
    logger: deps.logger,
    metrics: deps.metrics,
  });
  const httpServer = createServer(app);
  const sockets = new DeviceSockets(httpServer, { ...deps, metrics, now }, options);
  const feed = new LiveFeed({
    subscriber: deps.liveSubscriber,
    redis: deps.redis,
    live: new LiveStream({ keys: deps.keys }),
    keys: deps.keys,
    partitions: options.partitions,
    sink: sockets,
    laneLimit: options.liveLaneLimit,
    checkIntervalMs: options.liveCheckIntervalMs,
    logger: deps.logger,
  });

  const close = async () => {
    await wakeups.stop();
    await feed.stop();
    const closed = once(httpServer, 'close');
    // A client still sending a request after the grace period is cut off. Armed before closing the
    // sockets: socket.io's close() resolves only once the HTTP server has closed, which a keep-alive
    // client that keeps sending requests (a long-poll loop) would otherwise put off for ever.
    const force = setTimeout(() => httpServer.closeAllConnections(), SHUTDOWN_GRACE_MS);
    force.unref();
    await sockets.close();
    httpServer.closeIdleConnections();
    await closed;
    clearTimeout(force);
  };

  return {
    options,
    app,
    httpServer,
    io: sockets.io,
    async listen(port, host) {
      await wakeups.start();
      await feed.start();
      sockets.start();
      httpServer.listen(port, host);
      await once(httpServer, 'listening');
      return (httpServer.address() as AddressInfo).port;
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}
