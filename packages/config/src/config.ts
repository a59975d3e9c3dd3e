import { z } from 'zod';

import { PRIORITIES } from '@herald/contracts';
import type { Priority } from '@herald/contracts';

/** The apps whose secrets differ; each asks only for what it uses. */
export type AppName = 'ingest' | 'worker' | 'gateway' | 'dashboard' | 'demo' | 'launcher';

/** Development defaults of the secrets, printed at start-up; refused in production. */
export const DEVELOPMENT_SECRETS = {
  serviceKeys: 'dev:dev-service-key',
  deviceSecret: 'dev-device-secret-not-for-production',
  adminUser: 'admin',
  adminPassword: 'admin',
} as const;

const SECRET_VARS = {
  serviceKeys: 'HERALD_SERVICE_KEYS',
  deviceSecret: 'HERALD_DEVICE_SECRET',
  adminUser: 'HERALD_ADMIN_USER',
  adminPassword: 'HERALD_ADMIN_PASSWORD',
} as const;
type Secret = keyof typeof SECRET_VARS;

const SECRETS_BY_APP: Record<AppName, readonly Secret[]> = {
  ingest: ['serviceKeys', 'deviceSecret'],
  worker: ['serviceKeys'],
  gateway: ['deviceSecret'],
  dashboard: ['adminUser', 'adminPassword'],
  demo: ['serviceKeys'],
  launcher: [],
};

/** Where the worker sends a mobile platform's "pull now" signals. */
const PushProviderNameSchema = z.enum(['log', 'webhook', 'apns', 'fcm']);
export type PushProviderName = z.infer<typeof PushProviderNameSchema>;

/** Apple's key and team ids: 10 letters and digits. */
const appleId = (what: string) => z.string().regex(/^[A-Za-z0-9]{10}$/, `must be the 10-character ${what} Apple shows`);

const isOrigin = (url: string) => /^https?:\/\/[^/?#]+\/?$/.test(url);

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Load shedding (`@herald/overload`). On by default; a threshold of 0 leaves that signal out.
 * Each default is explained in the README's "Load shedding" section.
 */
const OverloadEnvSchema = z.object({
  HERALD_SHEDDING: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .transform((value) => value === 'true'),
  HERALD_SHED_CPU: z.coerce.number().min(0).max(1).default(0.8),
  HERALD_SHED_EVENT_LOOP_DELAY_MS: z.coerce.number().nonnegative().default(25),
  HERALD_SHED_REDIS_RTT_MS: z.coerce.number().nonnegative().default(5),
  HERALD_SHED_HIGH_AGE_MS: z.coerce.number().nonnegative().default(100),
  HERALD_SHED_QUEUE_AGE_MS: z.coerce.number().positive().default(2000),
  HERALD_SHED_RELEASE_RATIO: z.coerce.number().gt(0).lt(1).default(0.85),
  HERALD_SHED_INTERVAL_MS: z.coerce.number().int().min(50).max(5000).default(250),
  HERALD_SHED_MAX_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(300).default(5),
  HERALD_SHED_MAX_PAUSE_MS: z.coerce.number().int().min(0).max(10_000).default(100),
});

/** Whether a Redis URL names a Cluster. */
const isClusterUrl = (url: string) => /^rediss?\+cluster:/i.test(url);

const EnvSchema = z.object({
  NODE_ENV: z.string().default('development'),
  REDIS_URL: z
    .url({ protocol: /^(rediss?|unix|rediss?\+cluster)$/, error: 'must be a redis://, rediss://, unix://, redis+cluster:// or rediss+cluster:// URL' })
    .refine((url) => !url.startsWith('unix:') || /^unix:\/\/\/[^?#]+(\?db=\d+)?$/.test(url), 'a unix:// URL names the socket file: unix:///path/to/redis.sock[?db=N]')
    .refine((url) => !isClusterUrl(url) || /^rediss?\+cluster:\/\/([^@/?#]*@)?(\[[0-9a-fA-F:.]+\]|[^@/?#:[\]]+)(:\d+)?\/?$/i.test(url), 'a Redis Cluster URL names one node, any one: redis+cluster://[user:pass@]host:port (database 0 only)')
    .optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((value) => value.split(',').map((node) => node.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s[\],]+):\d{1,5}$/, 'must be host:port pairs, comma-separated')).min(1))
    .optional(),
  HERALD_REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(5).default(0),
  HERALD_REDIS_WAIT_TIMEOUT_MS: positiveInt(1000),
  HERALD_DATA_DIR: z.string().min(1).optional(),
  HERALD_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1..32 letters, digits, _ . or -')
    .default('herald'),
  INGEST_PORT: port(3100),
  GATEWAY_PORT: port(3200),
  DASHBOARD_PORT: port(3300),
  DEMO_PORT: port(3500),
  HERALD_DASHBOARD_READ_ONLY: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .transform((value) => value === 'true'),
  HERALD_SERVICE_KEYS: z.string().optional(),
  HERALD_DEVICE_SECRET: z.string().optional(),
  HERALD_DEVICE_TOKEN_TTL_SECONDS: positiveInt(30 * 24 * 3600),
  HERALD_ADMIN_USER: z.string().min(1).optional(),
  HERALD_ADMIN_PASSWORD: z.string().min(1).optional(),
  HERALD_CATALOG: z.string().min(1).optional(),
  HERALD_PARTITIONS_HIGH: positiveInt(4),
  HERALD_PARTITIONS_MEDIUM: positiveInt(4),
  HERALD_PARTITIONS_LOW: positiveInt(4),
  HERALD_BACKLOG_LIMIT_HIGH: positiveInt(100_000),
  HERALD_BACKLOG_LIMIT_MEDIUM: positiveInt(200_000),
  HERALD_BACKLOG_LIMIT_LOW: positiveInt(500_000),
  HERALD_DEDUP_WINDOW_MS: positiveInt(3_600_000),
  HERALD_TRACE_WINDOW_MS: z.coerce.number().int().nonnegative().default(3_600_000),
  WORKER_PORT: port(3400),
  HERALD_WORKER_PRIORITIES: z
    .string()
    .default('high,medium,low')
    .transform((value) => value.split(',').map((p) => p.trim()).filter(Boolean))
    .pipe(z.array(z.enum(PRIORITIES)).min(1)),
  HERALD_WORKER_ROLES: z
    .string()
    .default('router,delivery')
    .transform((value) => value.split(',').map((p) => p.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['router', 'delivery'])).min(1)),
  // Stream entries per read; an entry holds up to 1000 events (ingest coalesces them).
  HERALD_WORKER_BATCH_HIGH: positiveInt(2),
  HERALD_WORKER_BATCH_MEDIUM: positiveInt(4),
  HERALD_WORKER_BATCH_LOW: positiveInt(4),
  HERALD_WORKER_CONCURRENCY_HIGH: positiveInt(4),
  HERALD_WORKER_CONCURRENCY_MEDIUM: positiveInt(4),
  HERALD_WORKER_CONCURRENCY_LOW: positiveInt(2),
  HERALD_WORKER_LEASE_MS: positiveInt(10_000),
  HERALD_WORKER_RECLAIM_IDLE_MS: positiveInt(30_000),
  HERALD_WORKER_MAX_DELIVERIES: positiveInt(5),
  HERALD_WORKER_NICE: z.coerce.number().int().min(0).max(19).default(0),
  HERALD_DELIVERY_CONCURRENCY: positiveInt(8),
  HERALD_DELIVERY_ATTEMPTS: positiveInt(5),
  HERALD_PUSH_PROVIDER: PushProviderNameSchema.default('log'),
  HERALD_PUSH_PROVIDER_IOS: PushProviderNameSchema.optional(),
  HERALD_PUSH_PROVIDER_ANDROID: PushProviderNameSchema.optional(),
  HERALD_PUSH_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  HERALD_PUSH_WEBHOOK_TIMEOUT_MS: positiveInt(5_000),
  HERALD_PUSH_TIMEOUT_MS: positiveInt(5_000),
  HERALD_PUSH_CONCURRENCY: positiveInt(100),
  HERALD_PUSH_COALESCE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  HERALD_APNS_KEY_FILE: z.string().min(1).optional(),
  HERALD_APNS_KEY_ID: appleId('key id').optional(),
  HERALD_APNS_TEAM_ID: appleId('team id').optional(),
  HERALD_APNS_TOPIC: z.string().regex(/^[A-Za-z0-9.-]+$/, "must be the app's bundle id").optional(),
  HERALD_APNS_URL: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).refine(isOrigin, 'must be an origin, without a path').default('https://api.push.apple.com'),
  HERALD_FCM_SERVICE_ACCOUNT_FILE: z.string().min(1).optional(),
  HERALD_FCM_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).refine(isOrigin, 'must be an origin, without a path').default('https://fcm.googleapis.com'),
  HERALD_HISTORY_MAX_LENGTH: positiveInt(1000),
  HERALD_LIVE_STREAM_LENGTH: positiveInt(1000),
  HERALD_HISTORY_RETENTION_MS: positiveInt(7 * 24 * 3600 * 1000),
  HERALD_GATEWAY_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1..64 letters, digits, _ . : or -')
    .optional(),
  HERALD_PRESENCE_TTL_MS: z.coerce.number().int().min(1000).max(30_000).default(30_000),
  HERALD_CONNECTION_MAX_LIFETIME_MS: z.coerce.number().int().min(10_000).default(30 * 60 * 1000),
  HERALD_CONNECTION_LIFETIME_DITHER_MS: z.coerce.number().int().nonnegative().default(3 * 60 * 1000),
  HERALD_GATEWAY_LIVE_LANE_LIMIT: positiveInt(20_000),
  HERALD_ALLOWED_ORIGINS: z.string().min(1).optional(),
  HERALD_DEMO: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  HERALD_INGEST_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  HERALD_GATEWAY_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  HERALD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...OverloadEnvSchema.shape,
});

export interface ServiceKey {
  name: string;
  key: string;
}

export interface PriorityConfig {
  /** Stream partitions of this priority. Changing it re-maps accounts: drain first. */
  partitions: number;
  /** Entries in one partition past which ingest answers 429 for this priority. */
  backlogLimit: number;
}

export interface HeraldConfig {
  production: boolean;
  /**
   * Absent: the launcher's embedded Redis provides it. `redis+cluster://` / `rediss+cluster://`:
   * a Redis Cluster, this being one seed node.
   */
  redisUrl: string | undefined;
  /** More seed nodes of the Redis Cluster (`host:port`); only with a cluster URL. */
  redisClusterNodes: string[] | undefined;
  /**
   * Writes that must survive a master's failover (an accepted event before ingest answers 202,
   * a routed batch's history and jobs before its entries are acknowledged) wait until this many
   * replicas of their master have them (WAIT), failing after `timeoutMs`. 0: no waiting.
   */
  replicaAcks: { replicas: number; timeoutMs: number };
  /** Where `npm start` keeps the embedded Redis's data; absent: `.herald/` in the repository. */
  dataDir: string | undefined;
  keyPrefix: string;
  ports: { ingest: number; gateway: number; dashboard: number; worker: number; demo: number };
  serviceKeys: ServiceKey[];
  deviceSecret: string;
  deviceTokenTtlSeconds: number;
  admin: { user: string; password: string };
  /** The dashboard's queue board: read-only (the default) or allowed to retry, clean and promote jobs. */
  dashboard: { readOnly: boolean };
  catalogPath: string | undefined;
  priorities: Record<Priority, PriorityConfig>;
  dedupWindowMs: number;
  /** How long event traces (`GET /v1/events/:id`) are kept; 0 turns tracing off. */
  traceWindowMs: number;
  history: { maxLength: number; retentionMs: number };
  /**
   * Live messages (of up to 100 pushes each) each partition's live stream keeps: how far a
   * gateway node may fall behind a partition before it resyncs its connections from history.
   */
  liveStreamLength: number;
  worker: WorkerConfig;
  gateway: GatewayConfig;
  demo: DemoConfig;
  overload: OverloadConfig;
  logLevel: z.infer<typeof EnvSchema>['HERALD_LOG_LEVEL'];
  /** The development defaults this process fell back on, for the start-up banner. */
  developmentDefaults: string[];
}

export interface WorkerConfig {
  /** The priorities whose partitions this process routes. */
  priorities: Priority[];
  roles: ('router' | 'delivery')[];
  /** Stream entries read at once, per priority. */
  batchSize: Record<Priority, number>;
  /** Partitions of a priority this process routes at once (at most). */
  concurrency: Record<Priority, number>;
  /** A partition whose router stops renewing its lease is taken over after this. */
  leaseMs: number;
  /** Entries pending this long are reclaimed and retried. */
  reclaimIdleMs: number;
  /** Deliveries of a stream entry after which it goes to the dead letters. */
  maxDeliveries: number;
  /**
   * OS scheduling niceness the process sets on itself (0..19). On a host shared with
   * higher-priority work, a worker of low priorities at 10 gives way for CPU, so a flood it
   * routes delays high-priority routing less.
   */
  nice: number;
  deliveryConcurrency: number;
  deliveryAttempts: number;
  /**
   * The mobile push providers. Only a worker that runs the delivery role has them (it alone
   * sends signals): undefined in every other process. Incomplete settings stop that worker.
   */
  push: PushConfig | undefined;
}

/** One mobile platform's push provider and what it needs. Key files are read by the worker when it builds the provider. */
export type PushProviderConfig =
  | { provider: 'log' }
  | { provider: 'webhook'; url: string; timeoutMs: number }
  | { provider: 'apns'; keyFile: string; keyId: string; teamId: string; topic: string; url: string }
  | { provider: 'fcm'; serviceAccountFile: string; url: string };

export interface PushConfig {
  ios: PushProviderConfig;
  android: PushProviderConfig;
  /** APNs and FCM requests without an answer after this count as not delivered (and are retried). */
  timeoutMs: number;
  /** APNs and FCM requests in flight at most, per platform. */
  concurrency: number;
  /**
   * At most one signal per device per this many ms when events of its account arrive together;
   * what comes during the window is sent, newest cursor, when it ends. 0: every signal at once.
   */
  coalesceMs: number;
}

/**
 * Prioritized load shedding. Ingest computes the overload level from the signals and sheds low,
 * then medium priority at the door; workers yield those priorities' routing and delivery at the
 * level ingest publishes. High priority is never shed.
 */
export interface OverloadConfig {
  /** `HERALD_SHEDDING`: off on ingest turns shedding off everywhere (workers follow ingest's level). */
  enabled: boolean;
  /** Past any of these the host counts as overloaded; 0 leaves a signal out. */
  thresholds: {
    /** Host CPU busy fraction, 0..1. */
    cpu: number;
    /** Event-loop delay p99 of ingest and the workers, ms. */
    eventLoopDelayMs: number;
    /** Redis PING round trip (p90 of a tick), ms. */
    redisRttMs: number;
    /** Age of the oldest high-priority entry the router has not read yet, ms. */
    highAgeMs: number;
  };
  /** A yielded priority is shed at ingest once its oldest unrouted entry is this old (ms). */
  queueAgeMs: number;
  /** Released (recovering) when every signal is below this fraction of its threshold. */
  releaseRatio: number;
  /** How often the signals are read and the level updated (ms). */
  intervalMs: number;
  /** `Retry-After` of a fully shed priority; less while partly shed (at least 1 s). */
  maxRetryAfterSeconds: number;
  /** Pause of a fully yielded priority's router and delivery between batches (ms). */
  maxPauseMs: number;
}

export interface GatewayConfig {
  /** This process's presence id; absent: a random one per process. */
  nodeId: string | undefined;
  /** A device counts as online this long after its gateway's last heartbeat (refreshed every ttl/3). */
  presenceTtlMs: number;
  /** A connection is asked to reconnect after this, minus a random dither of up to `lifetimeDitherMs`. */
  connectionMaxLifetimeMs: number;
  lifetimeDitherMs: number;
  /** Browser origins allowed to connect and pull; undefined: any (clients without Origin always may). */
  allowedOrigins: string[] | undefined;
  /**
   * Live messages (of up to 100 pushes each) a priority's lane keeps waiting on a gateway node;
   * past it the oldest are dropped, and devices get them from history.
   */
  liveLaneLimit: number;
}

/** The development demo app (`apps/demo`): a client of ingest and the gateway like any other. */
export interface DemoConfig {
  /**
   * Whether the demo may run. Never in production. Otherwise `HERALD_DEMO` decides, and when it
   * is unset, only while the development service key is in use: the demo registers devices for
   * anyone who opens it, which a deployment with real service keys must not do by accident.
   */
  enabled: boolean;
  /** Ingest's base URL: the demo registers its devices and sends its sample events there. */
  ingestUrl: string;
  /** The gateway's base URL as the browser reaches it: the page's devices connect and pull there. */
  gatewayUrl: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function parseServiceKeys(raw: string): ServiceKey[] {
  const pairs = raw.split(',').map((pair) => pair.trim()).filter((pair) => pair.length > 0);
  if (pairs.length === 0) throw new ConfigError('HERALD_SERVICE_KEYS: must name at least one name:key pair');
  return pairs.map((pair) => {
    const colon = pair.indexOf(':');
    const name = pair.slice(0, colon);
    const key = pair.slice(colon + 1);
    if (colon <= 0 || key.length < 8) {
      throw new ConfigError(`HERALD_SERVICE_KEYS: "${name || pair}" must be name:key with a key of 8 or more characters`);
    }
    return { name, key };
  });
}

type EnvVars = z.infer<typeof EnvSchema>;

/** A platform's push provider from the variables, or what is missing for it. */
function pushProviderConfig(vars: EnvVars, platform: 'ios' | 'android'): PushProviderConfig | string {
  const own = platform === 'ios' ? 'HERALD_PUSH_PROVIDER_IOS' : 'HERALD_PUSH_PROVIDER_ANDROID';
  const chosenBy = vars[own] === undefined ? 'HERALD_PUSH_PROVIDER' : own;
  const provider = vars[own] ?? vars.HERALD_PUSH_PROVIDER;
  const needs = (missing: string[]) => `${chosenBy}=${provider} (the ${platform} provider) needs ${missing.join(', ')}`;
  switch (provider) {
    case 'log':
      return { provider };
    case 'webhook':
      return vars.HERALD_PUSH_WEBHOOK_URL === undefined
        ? needs(['HERALD_PUSH_WEBHOOK_URL'])
        : { provider, url: vars.HERALD_PUSH_WEBHOOK_URL, timeoutMs: vars.HERALD_PUSH_WEBHOOK_TIMEOUT_MS };
    case 'apns': {
      if (platform === 'android') return `${chosenBy}=apns: APNs reaches Apple devices only; set HERALD_PUSH_PROVIDER_ANDROID to fcm, webhook or log`;
      const { HERALD_APNS_KEY_FILE: keyFile, HERALD_APNS_KEY_ID: keyId, HERALD_APNS_TEAM_ID: teamId, HERALD_APNS_TOPIC: topic } = vars;
      if (keyFile === undefined || keyId === undefined || teamId === undefined || topic === undefined) {
        const given = { HERALD_APNS_KEY_FILE: keyFile, HERALD_APNS_KEY_ID: keyId, HERALD_APNS_TEAM_ID: teamId, HERALD_APNS_TOPIC: topic };
        return needs(Object.entries(given).filter(([, value]) => value === undefined).map(([name]) => name));
      }
      return { provider, keyFile, keyId, teamId, topic, url: vars.HERALD_APNS_URL.replace(/\/+$/, '') };
    }
    case 'fcm':
      return vars.HERALD_FCM_SERVICE_ACCOUNT_FILE === undefined
        ? needs(['HERALD_FCM_SERVICE_ACCOUNT_FILE'])
        : { provider, serviceAccountFile: vars.HERALD_FCM_SERVICE_ACCOUNT_FILE, url: vars.HERALD_FCM_URL.replace(/\/+$/, '') };
  }
}

/** The push providers of a worker that delivers; a ConfigError naming every missing setting. */
function pushConfig(vars: EnvVars): PushConfig {
  const ios = pushProviderConfig(vars, 'ios');
  const android = pushProviderConfig(vars, 'android');
  const problems = [ios, android].filter((p): p is string => typeof p === 'string');
  if (typeof ios === 'string' || typeof android === 'string') {
    throw new ConfigError(`Push providers are not fully configured:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return { ios, android, timeoutMs: vars.HERALD_PUSH_TIMEOUT_MS, concurrency: vars.HERALD_PUSH_CONCURRENCY, coalesceMs: vars.HERALD_PUSH_COALESCE_MS };
}

/**
 * Whether a secret given in the environment is (or contains, for the service keys) its documented
 * development default: anyone who read the README knows it. The admin user name is no secret.
 */
function isDevelopmentDefault(name: Secret, value: string | undefined): boolean {
  if (value === undefined) return false;
  switch (name) {
    case 'serviceKeys': {
      const devKey = DEVELOPMENT_SECRETS.serviceKeys.slice(DEVELOPMENT_SECRETS.serviceKeys.indexOf(':') + 1);
      return value.split(',').some((pair) => pair.slice(pair.indexOf(':') + 1).trim() === devKey);
    }
    case 'deviceSecret':
      return value === DEVELOPMENT_SECRETS.deviceSecret;
    case 'adminPassword':
      return value === DEVELOPMENT_SECRETS.adminPassword;
    case 'adminUser':
      return false;
  }
}

function parseOrigins(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '*') return undefined;
  const origins = raw.split(',').map((origin) => origin.trim()).filter((origin) => origin.length > 0);
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new ConfigError(`HERALD_ALLOWED_ORIGINS: "${origin}" must be an origin such as https://app.example.com (no path)`);
  }
  return origins;
}

/**
 * Parses the environment once, at boot, into a typed config. Throws a ConfigError naming every
 * bad variable; in production also every missing secret the app needs.
 */
export function loadConfig(env: NodeJS.ProcessEnv, app: AppName): HeraldConfig {
  // An empty variable counts as unset (compose's `${X:-}` and shells give empty strings).
  const result = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const vars = result.data;
  const production = vars.NODE_ENV === 'production';
  if (vars.REDIS_CLUSTER_NODES !== undefined && (vars.REDIS_URL === undefined || !isClusterUrl(vars.REDIS_URL))) {
    throw new ConfigError('Invalid configuration:\n  REDIS_CLUSTER_NODES: seeds of a Redis Cluster, for REDIS_URL=redis+cluster://host:port only');
  }

  const given: Record<Secret, string | undefined> = {
    serviceKeys: vars.HERALD_SERVICE_KEYS,
    deviceSecret: vars.HERALD_DEVICE_SECRET,
    adminUser: vars.HERALD_ADMIN_USER,
    adminPassword: vars.HERALD_ADMIN_PASSWORD,
  };
  const needed = SECRETS_BY_APP[app];
  const missing = needed.filter((secret) => given[secret] === undefined);
  if (production && missing.length > 0) {
    const names = missing.map((secret) => SECRET_VARS[secret]).join(', ');
    throw new ConfigError(`Missing secrets for production (NODE_ENV=production): set ${names}.`);
  }
  if (production) {
    const published = needed.filter((name) => isDevelopmentDefault(name, given[name]));
    if (published.length > 0) {
      const names = published.map((name) => SECRET_VARS[name]).join(', ');
      throw new ConfigError(`${names}: the published development default cannot be used in production (NODE_ENV=production); set a secret of your own.`);
    }
  }
  const secret = (name: Secret): string => given[name] ?? DEVELOPMENT_SECRETS[name];
  const deviceSecret = secret('deviceSecret');
  if (production && needed.includes('deviceSecret') && deviceSecret.length < 32) {
    throw new ConfigError('HERALD_DEVICE_SECRET: must be at least 32 characters in production.');
  }

  return {
    production,
    redisUrl: vars.REDIS_URL,
    redisClusterNodes: vars.REDIS_CLUSTER_NODES,
    replicaAcks: { replicas: vars.HERALD_REDIS_WAIT_REPLICAS, timeoutMs: vars.HERALD_REDIS_WAIT_TIMEOUT_MS },
    dataDir: vars.HERALD_DATA_DIR,
    keyPrefix: vars.HERALD_KEY_PREFIX,
    ports: { ingest: vars.INGEST_PORT, gateway: vars.GATEWAY_PORT, dashboard: vars.DASHBOARD_PORT, worker: vars.WORKER_PORT, demo: vars.DEMO_PORT },
    serviceKeys: parseServiceKeys(secret('serviceKeys')),
    deviceSecret,
    deviceTokenTtlSeconds: vars.HERALD_DEVICE_TOKEN_TTL_SECONDS,
    admin: { user: secret('adminUser'), password: secret('adminPassword') },
    dashboard: { readOnly: vars.HERALD_DASHBOARD_READ_ONLY },
    catalogPath: vars.HERALD_CATALOG,
    priorities: {
      high: { partitions: vars.HERALD_PARTITIONS_HIGH, backlogLimit: vars.HERALD_BACKLOG_LIMIT_HIGH },
      medium: { partitions: vars.HERALD_PARTITIONS_MEDIUM, backlogLimit: vars.HERALD_BACKLOG_LIMIT_MEDIUM },
      low: { partitions: vars.HERALD_PARTITIONS_LOW, backlogLimit: vars.HERALD_BACKLOG_LIMIT_LOW },
    },
    dedupWindowMs: vars.HERALD_DEDUP_WINDOW_MS,
    traceWindowMs: vars.HERALD_TRACE_WINDOW_MS,
    history: { maxLength: vars.HERALD_HISTORY_MAX_LENGTH, retentionMs: vars.HERALD_HISTORY_RETENTION_MS },
    liveStreamLength: vars.HERALD_LIVE_STREAM_LENGTH,
    worker: {
      priorities: vars.HERALD_WORKER_PRIORITIES,
      roles: vars.HERALD_WORKER_ROLES,
      batchSize: { high: vars.HERALD_WORKER_BATCH_HIGH, medium: vars.HERALD_WORKER_BATCH_MEDIUM, low: vars.HERALD_WORKER_BATCH_LOW },
      concurrency: {
        high: vars.HERALD_WORKER_CONCURRENCY_HIGH,
        medium: vars.HERALD_WORKER_CONCURRENCY_MEDIUM,
        low: vars.HERALD_WORKER_CONCURRENCY_LOW,
      },
      leaseMs: vars.HERALD_WORKER_LEASE_MS,
      reclaimIdleMs: vars.HERALD_WORKER_RECLAIM_IDLE_MS,
      maxDeliveries: vars.HERALD_WORKER_MAX_DELIVERIES,
      nice: vars.HERALD_WORKER_NICE,
      deliveryConcurrency: vars.HERALD_DELIVERY_CONCURRENCY,
      deliveryAttempts: vars.HERALD_DELIVERY_ATTEMPTS,
      push: app === 'worker' && vars.HERALD_WORKER_ROLES.includes('delivery') ? pushConfig(vars) : undefined,
    },
    gateway: {
      nodeId: vars.HERALD_GATEWAY_NODE_ID,
      presenceTtlMs: vars.HERALD_PRESENCE_TTL_MS,
      connectionMaxLifetimeMs: vars.HERALD_CONNECTION_MAX_LIFETIME_MS,
      lifetimeDitherMs: Math.min(vars.HERALD_CONNECTION_LIFETIME_DITHER_MS, vars.HERALD_CONNECTION_MAX_LIFETIME_MS / 2),
      allowedOrigins: parseOrigins(vars.HERALD_ALLOWED_ORIGINS),
      liveLaneLimit: vars.HERALD_GATEWAY_LIVE_LANE_LIMIT,
    },
    demo: {
      enabled: !production && (vars.HERALD_DEMO === undefined ? vars.HERALD_SERVICE_KEYS === undefined : vars.HERALD_DEMO === 'true'),
      ingestUrl: (vars.HERALD_INGEST_URL ?? `http://127.0.0.1:${vars.INGEST_PORT}`).replace(/\/+$/, ''),
      gatewayUrl: (vars.HERALD_GATEWAY_URL ?? `http://localhost:${vars.GATEWAY_PORT}`).replace(/\/+$/, ''),
    },
    overload: {
      enabled: vars.HERALD_SHEDDING,
      thresholds: {
        cpu: vars.HERALD_SHED_CPU,
        eventLoopDelayMs: vars.HERALD_SHED_EVENT_LOOP_DELAY_MS,
        redisRttMs: vars.HERALD_SHED_REDIS_RTT_MS,
        highAgeMs: vars.HERALD_SHED_HIGH_AGE_MS,
      },
      queueAgeMs: vars.HERALD_SHED_QUEUE_AGE_MS,
      releaseRatio: vars.HERALD_SHED_RELEASE_RATIO,
      intervalMs: vars.HERALD_SHED_INTERVAL_MS,
      maxRetryAfterSeconds: vars.HERALD_SHED_MAX_RETRY_AFTER_SECONDS,
      maxPauseMs: vars.HERALD_SHED_MAX_PAUSE_MS,
    },
    logLevel: vars.HERALD_LOG_LEVEL,
    developmentDefaults: missing.map((name) => `${SECRET_VARS[name]}=${DEVELOPMENT_SECRETS[name]}`),
  };
}

/** The Redis URL an app needs when run on its own; a ConfigError saying what to do when unset. */
export function requireRedisUrl(config: HeraldConfig): string {
  if (config.redisUrl === undefined) {
    throw new ConfigError('REDIS_URL is not set. Run `npm start` (it starts an embedded Redis) or point REDIS_URL at your Redis.');
  }
  return config.redisUrl;
}
