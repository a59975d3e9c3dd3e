import { z } from 'zod';

import { PRIORITIES } from '@herald/contracts';
import type { Priority } from '@herald/contracts';

/**
 * Every environment variable the apps read, in one table: its name, its zod schema, its default
 * (as it would be written in the environment, parsed like a value that was set), and one line
 * saying what it does. The loader (`loadConfig`), the unknown-variable warning, `herald config`
 * and the README check all read this table; the README explains each variable at length.
 */

/** The groups of `herald config` and of the README's configuration tables, in order. */
export const VARIABLE_GROUPS = [
  'General',
  'Redis',
  'Ports',
  'Secrets and access',
  'Per priority',
  'Events and history',
  'Worker',
  'Gateway',
  'Demo',
  'Mobile push',
  'Load shedding',
] as const;
export type VariableGroup = (typeof VARIABLE_GROUPS)[number];

/** How `herald config` shows a value that must not be printed. */
export type Masking =
  /** Nothing of it. */
  | 'secret'
  /** `name:key` pairs: the names only. */
  | 'service-keys'
  /** A URL: all but its password. */
  | 'url-password';

export interface VariableInfo {
  group: VariableGroup;
  /** One line: what it sets. */
  description: string;
  /** The value taken when it is unset, written as in the environment. */
  default?: string;
  /** What applies when it is unset, where that is no fixed value (a computed or development default). */
  whenUnset?: string;
  masking?: Masking;
  /** One of a setting's three per-priority variables: `HERALD_PARTITIONS_<PRIORITY>`, `high`. */
  perPriority?: { family: string; priority: Priority };
}

/** The variables' descriptions, keyed by their schemas in `EnvSchema.shape`. */
const VARIABLE_INFO = z.registry<VariableInfo>();

type About = Omit<VariableInfo, 'group' | 'default' | 'perPriority'>;

interface DeclareVariable {
  /** A variable with a fixed default, checked against the schema's input type. */
  <S extends z.ZodType>(schema: S, about: About & { default: z.input<S> & string }): z.ZodPrefault<S>;
  /** A variable that may stay unset. */
  <S extends z.ZodType>(schema: S, about: About): z.ZodOptional<S>;
}

/** Declares the variables of one group. */
function group(name: VariableGroup): DeclareVariable {
  return ((schema: z.ZodType, about: About & { default?: string }) => {
    const field = about.default === undefined ? schema.optional() : schema.prefault(about.default);
    VARIABLE_INFO.add(field, { ...about, group: name });
    return field;
  }) as DeclareVariable;
}

/**
 * A setting with one variable per priority, `<family>_HIGH`, `_MEDIUM` and `_LOW`: one row of
 * the README's per-priority table.
 */
function perPriority<F extends string, S extends z.ZodType>(
  family: F,
  schema: S,
  defaults: Record<Priority, z.input<S> & string>,
  description: string,
): { [P in Priority as `${F}_${Uppercase<P>}`]: z.ZodPrefault<S> } {
  const entries = PRIORITIES.map((priority) => {
    const field = schema.prefault(defaults[priority]);
    VARIABLE_INFO.add(field, { group: 'Per priority', description, default: defaults[priority], perPriority: { family: `${family}_<PRIORITY>`, priority } });
    return [`${family}_${priority.toUpperCase()}`, field];
  });
  return Object.fromEntries(entries) as { [P in Priority as `${F}_${Uppercase<P>}`]: z.ZodPrefault<S> };
}

/** Where the worker sends a mobile platform's "pull now" signals. */
export const PushProviderNameSchema = z.enum(['log', 'webhook', 'apns', 'fcm']);
export type PushProviderName = z.infer<typeof PushProviderNameSchema>;

/** Apple's key and team ids: 10 letters and digits. */
const appleId = (what: string) => z.string().regex(/^[A-Za-z0-9]{10}$/, `must be the 10-character ${what} Apple shows`);

const isOrigin = (url: string) => /^https?:\/\/[^/?#]+\/?$/.test(url);
const origin = (protocol: RegExp, error: string) => z.url({ protocol, error }).refine(isOrigin, 'must be an origin, without a path');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const flag = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((value) => value === 'true');
const list = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values)).min(1));

/** Whether a Redis URL names a Cluster. */
export const isClusterUrl = (url: string): boolean => /^rediss?\+cluster:/i.test(url);

/** `name:key` pairs, comma-separated; keys of 8 or more characters. */
const ServiceKeysSchema = z.string().transform((raw, ctx) => {
  const pairs = raw
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0);
  if (pairs.length === 0) ctx.issues.push({ code: 'custom', input: raw, message: 'must name at least one name:key pair' });
  const keys = pairs.map((pair) => {
    const colon = pair.indexOf(':');
    const name = colon < 0 ? '' : pair.slice(0, colon);
    const key = colon < 0 ? '' : pair.slice(colon + 1);
    if (colon <= 0 || key.length < 8)
      ctx.issues.push({ code: 'custom', input: raw, message: `"${name || pair}" must be name:key with a key of 8 or more characters` });
    return { name, key };
  });
  return keys;
});

/** Browser origins, comma-separated; `*` (like unset) allows any. */
const OriginsSchema = z.string().transform((raw, ctx) => {
  if (raw.trim() === '*') return undefined;
  const origins = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  for (const item of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(item))
      ctx.issues.push({ code: 'custom', input: raw, message: `"${item}" must be an origin such as https://app.example.com (no path)` });
  }
  return origins;
});

const general = group('General');
const redis = group('Redis');
const ports = group('Ports');
const access = group('Secrets and access');
const events = group('Events and history');
const worker = group('Worker');
const gateway = group('Gateway');
const demo = group('Demo');
const push = group('Mobile push');
const shedding = group('Load shedding');

export const EnvSchema = z.object({
  NODE_ENV: general(z.string(), { default: 'development', description: '`production` requires real secrets, none of them a development default' }),
  HERALD_LOG_LEVEL: general(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), {
    default: 'info',
    description: 'pino level: fatal … trace, silent',
  }),
  HERALD_KEY_PREFIX: general(z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1..32 letters, digits, _ . or -'), {
    default: 'herald',
    description: 'prefix of every Redis key',
  }),
  HERALD_DATA_DIR: general(z.string().min(1), { whenUnset: '.herald in the repository', description: "where `npm start` keeps the embedded Redis's data" }),
  HERALD_CATALOG: general(z.string().min(1), { whenUnset: 'the shipped catalog', description: 'path of an event catalog JSON file' }),

  REDIS_URL: redis(
    z
      .url({ protocol: /^(rediss?|unix|rediss?\+cluster)$/, error: 'must be a redis://, rediss://, unix://, redis+cluster:// or rediss+cluster:// URL' })
      .refine(
        (url) => !url.startsWith('unix:') || /^unix:\/\/\/[^?#]+(\?db=\d+)?$/.test(url),
        'a unix:// URL names the socket file: unix:///path/to/redis.sock[?db=N]',
      )
      .refine(
        (url) => !isClusterUrl(url) || /^rediss?\+cluster:\/\/([^@/?#]*@)?(\[[0-9a-fA-F:.]+\]|[^@/?#:[\]]+)(:\d+)?\/?$/i.test(url),
        'a Redis Cluster URL names one node, any one: redis+cluster://[user:pass@]host:port (database 0 only)',
      ),
    {
      whenUnset: 'the embedded Redis of npm start',
      masking: 'url-password',
      description: 'redis://, rediss://, unix:// or redis+cluster:// (a Cluster, any one node)',
    },
  ),
  REDIS_CLUSTER_NODES: redis(
    z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((node) => node.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s[\],]+):\d{1,5}$/, 'must be host:port pairs, comma-separated')).min(1)),
    { description: 'more Cluster seed nodes, host:port,host:port (with a redis+cluster:// URL only)' },
  ),
  HERALD_REDIS_WAIT_REPLICAS: redis(z.coerce.number().int().min(0).max(5), {
    default: '0',
    description: 'replicas that must have an accepted event and a routed batch (WAIT); 0: no waiting',
  }),
  HERALD_REDIS_WAIT_TIMEOUT_MS: redis(positiveInt, { default: '1000', description: 'how long those writes wait for the replicas' }),

  INGEST_PORT: ports(port, { default: '3100', description: 'ingest HTTP port' }),
  GATEWAY_PORT: ports(port, { default: '3200', description: 'gateway port' }),
  DASHBOARD_PORT: ports(port, { default: '3300', description: 'dashboard port' }),
  WORKER_PORT: ports(port, { default: '3400', description: 'worker health, metrics and dead-letter API' }),
  DEMO_PORT: ports(port, { default: '3500', description: 'the development demo app (npm start, never in production)' }),

  HERALD_SERVICE_KEYS: access(ServiceKeysSchema, {
    whenUnset: 'dev:dev-service-key (development only)',
    masking: 'service-keys',
    description: 'comma-separated name:key pairs; keys of 8+ characters',
  }),
  HERALD_DEVICE_SECRET: access(z.string(), {
    whenUnset: 'a development secret (development only)',
    masking: 'secret',
    description: 'signs device tokens (HS256); 32+ characters in production',
  }),
  HERALD_DEVICE_TOKEN_TTL_SECONDS: access(positiveInt, { default: String(30 * 24 * 3600), description: 'device token lifetime' }),
  HERALD_ADMIN_USER: access(z.string().min(1), { whenUnset: 'admin (development only)', description: 'dashboard login user' }),
  HERALD_ADMIN_PASSWORD: access(z.string().min(1), { whenUnset: 'admin (development only)', masking: 'secret', description: 'dashboard login password' }),
  HERALD_DASHBOARD_READ_ONLY: access(flag, { default: 'true', description: "false lets the dashboard's queue board retry, clean and promote delivery jobs" }),

  ...perPriority('HERALD_PARTITIONS', positiveInt, { high: '4', medium: '4', low: '4' }, 'stream partitions of the priority (drain before changing)'),
  ...perPriority(
    'HERALD_BACKLOG_LIMIT',
    positiveInt,
    { high: '100000', medium: '200000', low: '500000' },
    'unacknowledged events per partition past which ingest answers 429',
  ),
  // Stream entries per read; an entry holds up to 1000 events (ingest coalesces them).
  ...perPriority('HERALD_WORKER_BATCH', positiveInt, { high: '2', medium: '4', low: '4' }, 'stream entries a router reads at once'),
  ...perPriority(
    'HERALD_WORKER_CONCURRENCY',
    positiveInt,
    { high: '4', medium: '4', low: '2' },
    'most partitions of the priority one worker process routes at once',
  ),

  HERALD_DEDUP_WINDOW_MS: events(positiveInt, { default: '3600000', description: 'how long an event id is remembered (at least this, at most twice)' }),
  HERALD_TRACE_WINDOW_MS: events(nonNegativeInt, { default: '3600000', description: 'how long event traces are kept; 0 turns tracing and the live tap off' }),
  HERALD_HISTORY_MAX_LENGTH: events(positiveInt, { default: '1000', description: 'notifications kept per account, at most' }),
  HERALD_HISTORY_RETENTION_MS: events(positiveInt, {
    default: String(7 * 24 * 3600 * 1000),
    description: 'how long notifications are kept; older cursors get reset',
  }),
  HERALD_LIVE_STREAM_LENGTH: events(positiveInt, { default: '1000', description: "live messages each partition's live stream keeps" }),

  HERALD_WORKER_PRIORITIES: worker(list(PRIORITIES), { default: 'high,medium,low', description: 'the priorities this worker process routes' }),
  HERALD_WORKER_ROLES: worker(list(['router', 'delivery']), { default: 'router,delivery', description: 'run the router, the delivery workers, or both' }),
  HERALD_WORKER_LEASE_MS: worker(positiveInt, { default: '10000', description: "partition lease; a dead worker's partitions are taken over after it" }),
  HERALD_WORKER_RECLAIM_IDLE_MS: worker(positiveInt, { default: '30000', description: 'a pending stream entry idle this long is retried' }),
  HERALD_WORKER_MAX_DELIVERIES: worker(positiveInt, { default: '5', description: 'deliveries of a stream entry before it goes to the dead letters' }),
  HERALD_WORKER_NICE: worker(z.coerce.number().int().min(0).max(19), { default: '0', description: 'OS scheduling niceness (0..19) the worker sets on itself' }),
  HERALD_DELIVERY_CONCURRENCY: worker(positiveInt, { default: '8', description: 'jobs per platform queue processed at once' }),
  HERALD_DELIVERY_ATTEMPTS: worker(positiveInt, { default: '5', description: 'attempts of a delivery job' }),

  HERALD_GATEWAY_NODE_ID: gateway(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1..64 letters, digits, _ . : or -'), {
    whenUnset: 'host name + random',
    description: "a gateway process's id in presence; unique per process",
  }),
  HERALD_PRESENCE_TTL_MS: gateway(z.coerce.number().int().min(1000).max(30_000), {
    default: '30000',
    description: "a device counts as online this long after its gateway's last heartbeat",
  }),
  HERALD_CONNECTION_MAX_LIFETIME_MS: gateway(z.coerce.number().int().min(10_000), {
    default: String(30 * 60 * 1000),
    description: 'connections are asked to reconnect after this, minus a random dither',
  }),
  HERALD_CONNECTION_LIFETIME_DITHER_MS: gateway(nonNegativeInt, {
    default: String(3 * 60 * 1000),
    description: 'the most that dither takes off (at most half the lifetime)',
  }),
  HERALD_GATEWAY_LIVE_LANE_LIMIT: gateway(positiveInt, { default: '20000', description: 'live messages a gateway node keeps waiting per priority' }),
  HERALD_ALLOWED_ORIGINS: gateway(OriginsSchema, { whenUnset: 'any', description: 'comma-separated browser origins allowed to connect' }),
  HERALD_DEMO: demo(z.enum(['true', 'false'], { error: 'must be true or false' }), {
    whenUnset: 'on while the development service key is in use',
    description: 'run the demo app (npm start; never in production)',
  }),
  HERALD_INGEST_URL: demo(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }), {
    whenUnset: 'http://127.0.0.1:<INGEST_PORT>',
    description: 'where the demo registers devices and sends sample events (the herald CLI reads it too)',
  }),
  HERALD_GATEWAY_URL: demo(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }), {
    whenUnset: 'http://localhost:<GATEWAY_PORT>',
    description: "the gateway as the demo page's browser reaches it (the herald CLI reads it too)",
  }),

  HERALD_PUSH_PROVIDER: push(PushProviderNameSchema, {
    default: 'log',
    description: 'where mobile "pull now" signals go, for both platforms: apns, fcm, webhook or log',
  }),
  HERALD_PUSH_PROVIDER_IOS: push(PushProviderNameSchema, { whenUnset: 'HERALD_PUSH_PROVIDER', description: "the iOS devices' provider" }),
  HERALD_PUSH_PROVIDER_ANDROID: push(PushProviderNameSchema, { whenUnset: 'HERALD_PUSH_PROVIDER', description: "the Android devices' provider" }),
  HERALD_PUSH_TIMEOUT_MS: push(positiveInt, { default: '5000', description: 'an APNs or FCM request without an answer after this is retried' }),
  HERALD_PUSH_CONCURRENCY: push(positiveInt, { default: '100', description: 'APNs or FCM requests in flight at most, per platform and worker process' }),
  HERALD_PUSH_COALESCE_MS: push(z.coerce.number().int().min(0).max(60_000), {
    default: '1000',
    description: 'at most one signal per device per this window; 0: every signal at once',
  }),
  HERALD_APNS_KEY_FILE: push(z.string().min(1), { whenUnset: 'required with apns', description: 'the APNs auth key, the .p8 file' }),
  HERALD_APNS_KEY_ID: push(appleId('key id'), { whenUnset: 'required with apns', description: "the APNs key's 10-character id" }),
  HERALD_APNS_TEAM_ID: push(appleId('team id'), { whenUnset: 'required with apns', description: 'your Apple developer team id' }),
  HERALD_APNS_TOPIC: push(z.string().regex(/^[A-Za-z0-9.-]+$/, "must be the app's bundle id"), {
    whenUnset: 'required with apns',
    description: "the app's bundle id",
  }),
  HERALD_APNS_URL: push(origin(/^https$/, 'must be an https:// URL'), {
    default: 'https://api.push.apple.com',
    description: 'https://api.sandbox.push.apple.com for development builds of the app',
  }),
  HERALD_FCM_SERVICE_ACCOUNT_FILE: push(z.string().min(1), {
    whenUnset: 'required with fcm',
    description: "the Firebase project's service-account key (JSON)",
  }),
  HERALD_FCM_URL: push(origin(/^https?$/, 'must be an http:// or https:// URL'), { default: 'https://fcm.googleapis.com', description: "FCM's origin" }),
  HERALD_PUSH_WEBHOOK_URL: push(z.url({ protocol: /^https?$/ }), {
    whenUnset: 'required with webhook',
    description: 'where the webhook provider POSTs { platform, signals }',
  }),
  HERALD_PUSH_WEBHOOK_TIMEOUT_MS: push(positiveInt, { default: '5000', description: 'webhook timeout' }),

  // Load shedding (`@herald/overload`): on by default; a threshold of 0 leaves that signal out.
  HERALD_SHEDDING: shedding(flag, { default: 'true', description: 'load shedding; false on ingest turns it off everywhere' }),
  HERALD_SHED_CPU: shedding(z.coerce.number().min(0).max(1), {
    default: '0.8',
    description: 'host CPU busy fraction (0..1) past which the host counts as overloaded; 0: out',
  }),
  HERALD_SHED_EVENT_LOOP_DELAY_MS: shedding(z.coerce.number().nonnegative(), {
    default: '25',
    description: 'event-loop delay p99 of ingest or any worker past which the host counts as overloaded; 0: out',
  }),
  HERALD_SHED_REDIS_RTT_MS: shedding(z.coerce.number().nonnegative(), {
    default: '5',
    description: 'Redis PING round trip (p90 of a tick) past which Redis counts as overloaded; 0: out',
  }),
  HERALD_SHED_HIGH_AGE_MS: shedding(z.coerce.number().nonnegative(), {
    default: '100',
    description: 'age of the oldest unread high-priority entry past which high priority suffers; 0: out',
  }),
  HERALD_SHED_RELEASE_RATIO: shedding(z.coerce.number().gt(0).lt(1), {
    default: '0.85',
    description: 'shedding recovers once every signal is below this fraction of its threshold',
  }),
  HERALD_SHED_QUEUE_AGE_MS: shedding(z.coerce.number().positive(), {
    default: '2000',
    description: 'a yielded priority is shed at ingest once its oldest unrouted entry is this old',
  }),
  HERALD_SHED_INTERVAL_MS: shedding(z.coerce.number().int().min(50).max(5000), {
    default: '250',
    description: 'how often the signals are read and the level updated',
  }),
  HERALD_SHED_MAX_RETRY_AFTER_SECONDS: shedding(z.coerce.number().int().min(1).max(300), { default: '5', description: 'Retry-After of a fully shed priority' }),
  HERALD_SHED_MAX_PAUSE_MS: shedding(z.coerce.number().int().min(0).max(10_000), {
    default: '100',
    description: "pause of a fully yielded priority's router and delivery",
  }),
});
export type EnvVars = z.output<typeof EnvSchema>;
export type VariableName = keyof typeof EnvSchema.shape;

/** One variable of the table. */
export interface Variable extends VariableInfo {
  name: VariableName;
  schema: z.ZodType;
}

/** Every variable the apps read, in the table's order. */
export const VARIABLES: readonly Variable[] = Object.entries(EnvSchema.shape).map(([name, schema]) => {
  const info = VARIABLE_INFO.get(schema);
  if (info === undefined) throw new Error(`${name} is not declared with its group`);
  return { ...info, name: name as VariableName, schema };
});

/**
 * HERALD_* variables read outside the apps' configuration, by whom. They are not settings of the
 * apps, but no typos either: the unknown-variable warning passes over them.
 */
export const OTHER_VARIABLES: Readonly<Record<string, string>> = {
  HERALD_SERVICE_KEY: 'the herald CLI: its service key',
  HERALD_CLI_FROM_SOURCE: 'the herald CLI: 1 runs its TypeScript sources even when built',
  HERALD_TEST_REDIS: 'npm test: the Redis topology, standalone or cluster',
  HERALD_PROBE: "bench/pipeline: its probe process's settings (the bench sets it)",
};

/** Prefixes of HERALD_* variables read outside the apps' configuration (see OTHER_VARIABLES). */
export const OTHER_VARIABLE_PREFIXES: Readonly<Record<string, string>> = {
  HERALD_BENCH_: 'the benchmarks (docs/BENCHMARKS.md)',
};
