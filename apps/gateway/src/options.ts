import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Priority } from '@herald/contracts';

/** How one gateway process behaves. Every field has a default; `resolveGatewayOptions` checks them. */
export interface GatewayOptions {
  /** This process's id in presence (`[deviceId, nodeId]` fields). Default: host name + random suffix. */
  nodeId: string;
  /** A device counts as online this long after this node's last heartbeat; heartbeats run every ttl/3. */
  presenceTtlMs: number;
  /** A connection is asked to reconnect after this long, minus a random dither (spreads reconnects). */
  connectionMaxLifetimeMs: number;
  /** Up to this much is taken off each connection's lifetime, at random. */
  lifetimeDitherMs: number;
  /** Browser origins allowed to connect and pull; undefined: any. Clients that send no Origin always may. */
  allowedOrigins: readonly string[] | undefined;
  /** Token bucket per connection for client → server messages. */
  rateLimit: {
    /** Messages allowed at once. */
    burst: number;
    /** Refill, messages per second. */
    perSecond: number;
    /** Messages refused in a row after which the connection is closed. */
    maxRefusedInARow: number;
  };
  /** An engine connection that has not joined (authenticated) within this is closed. */
  connectTimeoutMs: number;
  /** History entries read per round trip when replaying. */
  replayPageSize: number;
  /** Live pushes held per connection while its replay runs; past it they are re-read from history. */
  liveBufferLimit: number;
  /**
   * Live messages (of up to 100 pushes each) a priority's lane keeps waiting on this node; past
   * it newer ones are left in their live streams and read from there once the lane drains.
   */
  liveLaneLimit: number;
  /** Stream partitions per priority (as ingest and the worker are configured): the live streams this node follows. */
  partitions: Record<Priority, number>;
  /** How often each live stream's counter is compared with this node's position (a message lost unnoticed is read then). */
  liveCheckIntervalMs: number;
  /** Notifications remembered per connection (cursor → event id) for ack traces; also the most ack callbacks pending. */
  recentNotifications: number;
  /** How long an event trace's key lives when the gateway creates it (an ack); 0: acks are not traced. */
  traceTtlMs: number;
  /** How long the per-account acknowledged-cursor hash lives after its last ack. */
  ackRetentionMs: number;
}

export type GatewayOptionsInput = Partial<Omit<GatewayOptions, 'rateLimit'>> & { rateLimit?: Partial<GatewayOptions['rateLimit']> };

export const GATEWAY_DEFAULTS = {
  presenceTtlMs: 30_000,
  connectionMaxLifetimeMs: 30 * 60 * 1000,
  lifetimeDitherMs: 3 * 60 * 1000,
  rateLimit: { burst: 20, perSecond: 10, maxRefusedInARow: 20 },
  connectTimeoutMs: 5_000,
  replayPageSize: 100,
  liveBufferLimit: 500,
  liveLaneLimit: 20_000,
  partitions: { high: 4, medium: 4, low: 4 },
  liveCheckIntervalMs: 1_000,
  recentNotifications: 64,
  traceTtlMs: 24 * 3600 * 1000,
  ackRetentionMs: 7 * 24 * 3600 * 1000,
} as const;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`gateway option ${name} must be a positive integer, got ${value}`);
  return value;
}

/** Merges defaults in one place and refuses nonsense. */
export function resolveGatewayOptions(input: GatewayOptionsInput = {}): GatewayOptions {
  const options: GatewayOptions = {
    nodeId: input.nodeId ?? `${hostname()}-${randomUUID().slice(0, 8)}`,
    presenceTtlMs: input.presenceTtlMs ?? GATEWAY_DEFAULTS.presenceTtlMs,
    connectionMaxLifetimeMs: input.connectionMaxLifetimeMs ?? GATEWAY_DEFAULTS.connectionMaxLifetimeMs,
    lifetimeDitherMs: input.lifetimeDitherMs ?? GATEWAY_DEFAULTS.lifetimeDitherMs,
    allowedOrigins: input.allowedOrigins,
    rateLimit: { ...GATEWAY_DEFAULTS.rateLimit, ...input.rateLimit },
    connectTimeoutMs: input.connectTimeoutMs ?? GATEWAY_DEFAULTS.connectTimeoutMs,
    replayPageSize: input.replayPageSize ?? GATEWAY_DEFAULTS.replayPageSize,
    liveBufferLimit: input.liveBufferLimit ?? GATEWAY_DEFAULTS.liveBufferLimit,
    liveLaneLimit: input.liveLaneLimit ?? GATEWAY_DEFAULTS.liveLaneLimit,
    partitions: { ...GATEWAY_DEFAULTS.partitions, ...input.partitions },
    liveCheckIntervalMs: input.liveCheckIntervalMs ?? GATEWAY_DEFAULTS.liveCheckIntervalMs,
    recentNotifications: input.recentNotifications ?? GATEWAY_DEFAULTS.recentNotifications,
    traceTtlMs: input.traceTtlMs ?? GATEWAY_DEFAULTS.traceTtlMs,
    ackRetentionMs: input.ackRetentionMs ?? GATEWAY_DEFAULTS.ackRetentionMs,
  };
  if (options.nodeId.length === 0) throw new RangeError('gateway option nodeId must not be empty');
  positiveInteger('presenceTtlMs', options.presenceTtlMs);
  positiveInteger('connectionMaxLifetimeMs', options.connectionMaxLifetimeMs);
  if (!Number.isInteger(options.lifetimeDitherMs) || options.lifetimeDitherMs < 0 || options.lifetimeDitherMs >= options.connectionMaxLifetimeMs) {
    throw new RangeError('gateway option lifetimeDitherMs must be an integer in [0, connectionMaxLifetimeMs)');
  }
  positiveInteger('rateLimit.burst', options.rateLimit.burst);
  if (!(options.rateLimit.perSecond > 0)) throw new RangeError('gateway option rateLimit.perSecond must be positive');
  positiveInteger('rateLimit.maxRefusedInARow', options.rateLimit.maxRefusedInARow);
  positiveInteger('connectTimeoutMs', options.connectTimeoutMs);
  positiveInteger('replayPageSize', options.replayPageSize);
  positiveInteger('liveBufferLimit', options.liveBufferLimit);
  positiveInteger('liveLaneLimit', options.liveLaneLimit);
  for (const [priority, count] of Object.entries(options.partitions)) positiveInteger(`partitions.${priority}`, count);
  positiveInteger('liveCheckIntervalMs', options.liveCheckIntervalMs);
  positiveInteger('recentNotifications', options.recentNotifications);
  if (!Number.isInteger(options.traceTtlMs) || options.traceTtlMs < 0) throw new RangeError('gateway option traceTtlMs must be a non-negative integer');
  positiveInteger('ackRetentionMs', options.ackRetentionMs);
  return options;
}
