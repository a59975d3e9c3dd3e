import type { Server } from 'node:net';
import { ConfigError } from '@herald/config';
import type { Logger } from './logger.js';
import { checkRedisSetup, RedisSetupError } from '@herald/redis';
import type { RedisClient, RedisSetupReport } from '@herald/redis';

/** What stopping needs of a Redis connection to tell whether Redis is there (ioredis's client fits). */
export interface RedisConnectionState {
  /** ioredis: `ready` while connected; `connecting`, `reconnecting`, … while not. */
  readonly status: string;
  once(event: 'reconnecting', listener: () => void): unknown;
  off(event: 'reconnecting', listener: () => void): unknown;
}

export interface GracefulStopOptions {
  app: string;
  logger: Logger;
  /** What stopping means for this app: refuse new work, finish what is in flight, close. */
  stop: () => Promise<void>;
  /** Past this the process exits 1 anyway (work in flight is retried elsewhere). Default 30 s. */
  timeoutMs?: number;
  /**
   * The app's main Redis connection. Finishing work in flight needs Redis: when it is not
   * reachable as stopping begins, or the connection drops while stopping, the app exits (1) at
   * once instead of waiting on reconnects until the timeout. What was in flight stays in Redis
   * (pending stream entries, leases that expire, jobs BullMQ retries).
   */
  redis?: RedisConnectionState;
}

/** A failure to start that one line explains (a port in use): printed as it is, with no stack. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

/** The signals that stop an app: Ctrl-C, a supervisor, and a closed terminal. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Set once stopOnSignals is registered; before that, a parent that goes away ends the process at once. */
let requestStop: ((reason: string) => void) | undefined;

/**
 * An app started by the launcher has an IPC channel to it. When the channel closes (the launcher
 * exited, was killed with SIGKILL, or its terminal closed) nobody will ever stop this app: it
 * stops itself, as on SIGTERM. Run at import, so it holds during start-up too.
 */
function watchParent(): void {
  if (process.channel === undefined) return;
  // The channel must not keep a finished process alive.
  process.channel.unref();
  process.once('disconnect', () => {
    if (requestStop !== undefined) requestStop('parent process gone');
    else process.exit(1);
  });
}
watchParent();

/** Resolves when Redis is not reachable: now (not connected), or once the connection drops. */
function redisLost(redis: RedisConnectionState): { lost: Promise<void>; dispose(): void } {
  if (redis.status !== 'ready') return { lost: Promise.resolve(), dispose: () => undefined };
  let listener: () => void = () => undefined;
  // `reconnecting`, not `close`: ioredis emits `close` for the app's own quit too, `reconnecting` only for a lost connection.
  const lost = new Promise<void>((resolve) => {
    listener = resolve;
    redis.once('reconnecting', listener);
  });
  return { lost, dispose: () => redis.off('reconnecting', listener) };
}

/**
 * Stops the app once on SIGTERM, SIGINT or SIGHUP (a closed terminal), or when the launcher that
 * started it is gone, and exits 0; exits 1 when stopping fails, takes longer than the timeout,
 * or cannot finish because Redis is not there, rather than hanging.
 */
export function stopOnSignals({ app, logger, stop, timeoutMs = 30_000, redis }: GracefulStopOptions): void {
  let stopping = false;
  const onStop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, `${app} stopping`);
    setTimeout(() => {
      logger.error(`${app} did not stop within ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs).unref();
    const watch = redis === undefined ? undefined : redisLost(redis);
    const stopped = stop().then(() => 'stopped' as const);
    const gone = watch === undefined ? new Promise<never>(() => undefined) : watch.lost.then(() => 'redis gone' as const);
    Promise.race([stopped, gone]).then(
      (outcome) => {
        if (outcome === 'stopped') {
          watch?.dispose();
          logger.info(`${app} stopped`);
          process.exit(0);
        }
        logger.warn(`${app} stopped without finishing its work in flight: Redis is not reachable (what was in flight stays in Redis and is retried)`);
        process.exit(1);
      },
      (error: unknown) => {
        logger.error({ err: error }, `${app} failed to stop cleanly`);
        process.exit(1);
      },
    );
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => onStop(signal));
  requestStop = onStop;
}

/**
 * Listens on `port` (all interfaces unless `host`), or throws a StartError naming the variable
 * that sets it when the port is taken or not allowed, instead of an EADDRINUSE stack trace.
 */
export async function listenOn(server: Server, port: number, variable: string, host?: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(describeListenError(error, variable, port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    if (host === undefined) server.listen(port);
    else server.listen(port, host);
  });
}

/** A listen error as one line naming the variable (EADDRINUSE, EACCES), or the error itself. */
export function describeListenError(error: unknown, variable: string, port: number): unknown {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'EADDRINUSE') {
    return new StartError(
      `${variable}=${port}: port ${port} is already in use (another Herald, or another program); stop it or set ${variable} to a free port.`,
    );
  }
  if (code === 'EACCES') return new StartError(`${variable}=${port}: not allowed to listen on port ${port}; set ${variable} to a port above 1023.`);
  return error;
}

/**
 * The start-up check of an app's Redis, before it takes any work: logs one Redis or a Cluster
 * (with `cluster_state` and its masters), and throws a RedisSetupError, which stops the app with
 * a plain message, when a master is not set up as Herald needs (`maxmemory-policy noeviction`).
 */
export async function checkRedis(client: RedisClient, logger: Logger): Promise<RedisSetupReport> {
  let report: RedisSetupReport;
  try {
    report = await checkRedisSetup(client);
  } catch (error) {
    if (error instanceof RedisSetupError) throw error;
    // Unreachable or refusing: one plain line (runMain prints a RedisSetupError's message alone).
    throw new RedisSetupError(
      `Redis cannot be reached (${error instanceof Error ? error.message : String(error)}); check REDIS_URL and that Redis is running.`,
    );
  }
  const summary =
    report.mode === 'cluster' ? `Redis Cluster, cluster_state ${report.clusterState ?? 'unknown'}, ${report.masters.length} masters` : 'one Redis';
  logger.info({ redis: report }, `redis: ${summary}, maxmemory-policy noeviction`);
  if (report.clusterState !== undefined && report.clusterState !== 'ok')
    logger.warn({ clusterState: report.clusterState }, 'the Redis Cluster is not ok yet; commands wait and retry until it is');
  return report;
}

/** Runs an app's main; a failure to start prints its reason (a config, start or Redis set-up error as plain text) and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError || error instanceof StartError || error instanceof RedisSetupError ? error.message : error);
    process.exit(1);
  });
}
