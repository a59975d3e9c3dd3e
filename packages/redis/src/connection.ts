import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';

/**
 * The client type every Herald module takes: one Redis, or a Redis Cluster (ioredis `Cluster`,
 * which routes each command to the master of its key's slot). Both take the same commands;
 * what differs (commands for every master, pipelines and subscriptions per slot) lives in
 * `./cluster.ts`, so modules stay free of `if (cluster)`.
 */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /**
   * `redis://`, `rediss://` or `unix:///path/redis.sock[?db=N]` for one Redis;
   * `redis+cluster://[user:pass@]host:port` (or `rediss+cluster://`, TLS) for a Redis Cluster,
   * the host being any one node (a seed: the client learns the rest from it).
   */
  url: string;
  /** More Cluster seeds (`host:port`), tried when the URL's node does not answer (REDIS_CLUSTER_NODES). */
  clusterNodes?: readonly string[] | undefined;
  /** Shown in CLIENT LIST, which helps when reading a busy server. */
  name?: string;
  /** Batch commands issued in the same tick into one round trip (hot paths). */
  autoPipelining?: boolean;
  /**
   * For blocking readers (XREADGROUP BLOCK, BullMQ workers): no retry limit per request,
   * because a blocked command must wait out a reconnect rather than fail.
   */
  blocking?: boolean;
  /**
   * The connection will SSUBSCRIBE (sharded pub/sub). On a Cluster that needs a subscriber
   * connection per master (ioredis `shardedSubscribers`); one Redis needs nothing more.
   */
  shardedSubscriber?: boolean;
  /**
   * Where the connection's errors go. ioredis reconnects by itself and reports each failure as
   * an `error` event; without a listener it prints them unstructured ("Unhandled error event").
   */
  logger?: ConnectionErrorLogger;
}

/** The one logger method connection errors need (pino's `warn` fits). */
export interface ConnectionErrorLogger {
  warn(fields: { err: Error; connection: string | undefined }, message: string): void;
}

/**
 * Commands ioredis must not auto-pipeline on a Cluster: its auto-pipelining picks a command's
 * slot from its first argument, which for these container commands is a subcommand
 * (`XGROUP CREATE <key>`, `XINFO GROUPS <key>`), not the key, so they would be sent to the
 * master of the slot of the word "CREATE" and answered MOVED. Sent on their own they are routed
 * by their real key. None is on a hot path (group creation, trimming, the dashboard).
 */
export const CLUSTER_UNPIPELINED_COMMANDS = ['xgroup', 'xinfo', 'object', 'memory'] as const;

export function createRedis(options: RedisConnectionOptions): RedisClient {
  const client = isClusterUrl(options.url) ? createCluster(options) : createStandalone(options);
  const { logger } = options;
  if (logger !== undefined) {
    client.on('error', (error: Error) => logger.warn({ err: error, connection: options.name }, 'redis connection error'));
    if (client instanceof Cluster) client.on('node error', (error: Error) => logger.warn({ err: error, connection: options.name }, 'redis cluster node error'));
  }
  return client;
}

function createStandalone(options: RedisConnectionOptions): Redis {
  if (options.clusterNodes !== undefined && options.clusterNodes.length > 0)
    throw new Error('Cluster seed nodes are given, but the Redis URL is not a redis+cluster:// URL');
  const redisOptions: RedisOptions = {
    lazyConnect: false,
    enableAutoPipelining: options.autoPipelining ?? false,
    maxRetriesPerRequest: options.blocking === true ? null : 3,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  };
  if (options.name !== undefined) redisOptions.connectionName = options.name;
  const socket = unixSocketAddress(options.url);
  return socket === undefined ? new Redis(options.url, redisOptions) : new Redis({ ...socket, ...redisOptions });
}

function createCluster(options: RedisConnectionOptions): Cluster {
  const target = parseClusterUrl(options.url, options.clusterNodes ?? []);
  const clusterOptions: ClusterOptions = {
    lazyConnect: false,
    enableAutoPipelining: options.autoPipelining ?? false,
    autoPipeliningIgnoredCommands: [...CLUSTER_UNPIPELINED_COMMANDS],
    shardedSubscribers: options.shardedSubscriber ?? false,
    // Reads go to masters: replicas lag (asynchronous replication), and Herald reads what it wrote.
    scaleReads: 'master',
    // While a failed master's replica is being promoted, commands to its slots wait and retry.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    maxRedirections: 32,
    // A failover is noticed within this at the latest even by a client that sent nothing to the node.
    slotsRefreshInterval: 2000,
    clusterRetryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    redisOptions: {
      maxRetriesPerRequest: options.blocking === true ? null : 3,
      ...(options.name === undefined ? {} : { connectionName: options.name }),
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
      ...(target.tls ? { tls: {} } : {}),
    },
    // With TLS, nodes are reached by the names they announce, so certificates match them.
    ...(target.tls ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster(target.seeds, clusterOptions);
}

/** Whether a Redis URL names a Cluster (`redis+cluster://`, `rediss+cluster://`). */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:/i.test(url);
}

export interface ClusterTarget {
  seeds: { host: string; port: number }[];
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

/** The seeds and credentials of a `redis+cluster://` URL, plus extra `host:port` seeds. */
export function parseClusterUrl(url: string, extraSeeds: readonly string[] = []): ClusterTarget {
  const parsed = new URL(url);
  if (!isClusterUrl(url)) throw new Error(`not a redis+cluster:// URL: ${parsed.protocol}`);
  if (parsed.hostname === '') throw new Error('a redis+cluster:// URL names a node: redis+cluster://host:port');
  if (parsed.pathname !== '' && parsed.pathname !== '/' && parsed.pathname !== '/0') throw new Error('a Redis Cluster has database 0 only');
  const seeds = [`${parsed.hostname}:${parsed.port || '6379'}`, ...extraSeeds].map(parseHostPort);
  return {
    seeds,
    username: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    tls: parsed.protocol.toLowerCase() === 'rediss+cluster:',
  };
}

/** `host:port` (`[v6]:port` for IPv6) → its parts; throws on anything else. */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (match === null || !(port > 0 && port < 65536)) throw new Error(`"${text}" is not host:port`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * The socket path (and database) of a `unix:///path/to/redis.sock[?db=N]` URL, undefined for
 * any other URL. A Unix socket spares every command the TCP stack, for a Redis on the same host
 * (the embedded one `npm start` runs).
 */
export function unixSocketAddress(url: string): { path: string; db?: number } | undefined {
  if (!url.startsWith('unix:')) return undefined;
  const parsed = new URL(url);
  const db = parsed.searchParams.get('db');
  return { path: decodeURIComponent(parsed.pathname), ...(db === null ? {} : { db: Number(db) }) };
}

/** Closes a client, waiting for replies in flight; falls back to disconnect if that fails. */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/**
 * Whether Redis itself answered a command with an error (WRONGTYPE, ERR …): sending the same
 * command again fails the same way. A lost connection or a timeout is not a reply error.
 */
export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}
