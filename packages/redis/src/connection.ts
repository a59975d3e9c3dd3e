import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';

/**
 * The client type every Herald module takes. Today a standalone connection; a Cluster client
 * fits the same commands, so adding cluster support changes this factory, not its callers.
 */
export type RedisClient = Redis;

export interface RedisConnectionOptions {
  url: string;
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
   * Where the connection's errors go. ioredis reconnects by itself and reports each failure as
   * an `error` event; without a listener it prints them unstructured ("Unhandled error event").
   */
  logger?: ConnectionErrorLogger;
}

/** The one logger method connection errors need (pino's `warn` fits). */
export interface ConnectionErrorLogger {
  warn(fields: { err: Error; connection: string | undefined }, message: string): void;
}

export function createRedis(options: RedisConnectionOptions): RedisClient {
  const redisOptions: RedisOptions = {
    lazyConnect: false,
    enableAutoPipelining: options.autoPipelining ?? false,
    maxRetriesPerRequest: options.blocking === true ? null : 3,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  };
  if (options.name !== undefined) redisOptions.connectionName = options.name;
  const socket = unixSocketAddress(options.url);
  const client = socket === undefined ? new Redis(options.url, redisOptions) : new Redis({ ...socket, ...redisOptions });
  const { logger } = options;
  if (logger !== undefined) client.on('error', (error: Error) => logger.warn({ err: error, connection: options.name }, 'redis connection error'));
  return client;
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
