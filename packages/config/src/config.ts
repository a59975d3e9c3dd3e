import type { z } from 'zod';

import { describeUnknownVariable, unknownVariables } from './unknown-variables.js';
import { EnvSchema, isClusterUrl } from './variables.js';
import type { EnvVars } from './variables.js';

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

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A problem that involves more than one variable, or a variable and the app; `variable` prefixes it. */
type Report = (message: string, variable?: string) => void;

/** A platform's push provider from the variables; undefined (reported) when a setting it needs is missing. */
function pushProvider(vars: EnvVars, platform: 'ios' | 'android', report: Report) {
  const own = platform === 'ios' ? 'HERALD_PUSH_PROVIDER_IOS' : 'HERALD_PUSH_PROVIDER_ANDROID';
  const chosenBy = vars[own] === undefined ? 'HERALD_PUSH_PROVIDER' : own;
  const provider = vars[own] ?? vars.HERALD_PUSH_PROVIDER;
  const needs = (missing: string[]): undefined => {
    report(`${chosenBy}=${provider} (the ${platform} provider) needs ${missing.join(', ')}`);
    return undefined;
  };
  switch (provider) {
    case 'log':
      return { provider };
    case 'webhook':
      if (vars.HERALD_PUSH_WEBHOOK_URL === undefined) return needs(['HERALD_PUSH_WEBHOOK_URL']);
      return { provider, url: vars.HERALD_PUSH_WEBHOOK_URL, timeoutMs: vars.HERALD_PUSH_WEBHOOK_TIMEOUT_MS };
    case 'apns': {
      if (platform === 'android') {
        report(`${chosenBy}=apns: APNs reaches Apple devices only; set HERALD_PUSH_PROVIDER_ANDROID to fcm, webhook or log`);
        return undefined;
      }
      const { HERALD_APNS_KEY_FILE: keyFile, HERALD_APNS_KEY_ID: keyId, HERALD_APNS_TEAM_ID: teamId, HERALD_APNS_TOPIC: topic } = vars;
      if (keyFile === undefined || keyId === undefined || teamId === undefined || topic === undefined) {
        const given = { HERALD_APNS_KEY_FILE: keyFile, HERALD_APNS_KEY_ID: keyId, HERALD_APNS_TEAM_ID: teamId, HERALD_APNS_TOPIC: topic };
        return needs(
          Object.entries(given)
            .filter(([, value]) => value === undefined)
            .map(([name]) => name),
        );
      }
      return { provider, keyFile, keyId, teamId, topic, url: vars.HERALD_APNS_URL.replace(/\/+$/, '') };
    }
    case 'fcm':
      if (vars.HERALD_FCM_SERVICE_ACCOUNT_FILE === undefined) return needs(['HERALD_FCM_SERVICE_ACCOUNT_FILE']);
      return { provider, serviceAccountFile: vars.HERALD_FCM_SERVICE_ACCOUNT_FILE, url: vars.HERALD_FCM_URL.replace(/\/+$/, '') };
  }
}

/** The push providers of a worker that delivers; undefined (reported) when either platform's lacks a setting. */
function pushConfig(vars: EnvVars, report: Report) {
  const ios = pushProvider(vars, 'ios', report);
  const android = pushProvider(vars, 'android', report);
  if (ios === undefined || android === undefined) return undefined;
  return {
    ios,
    android,
    /** APNs and FCM requests without an answer after this count as not delivered (and are retried). */
    timeoutMs: vars.HERALD_PUSH_TIMEOUT_MS,
    /** APNs and FCM requests in flight at most, per platform. */
    concurrency: vars.HERALD_PUSH_CONCURRENCY,
    /**
     * At most one signal per device per this many ms when events of its account arrive together;
     * what comes during the window is sent, newest cursor, when it ends. 0: every signal at once.
     */
    coalesceMs: vars.HERALD_PUSH_COALESCE_MS,
  };
}

/** The development service key, which anyone who read the README knows. */
const DEVELOPMENT_SERVICE_KEY = DEVELOPMENT_SECRETS.serviceKeys.slice(DEVELOPMENT_SECRETS.serviceKeys.indexOf(':') + 1);

/**
 * Whether a secret given in the environment is (or contains, for the service keys) its documented
 * development default. The admin user name is no secret.
 */
function isDevelopmentDefault(name: Secret, vars: EnvVars): boolean {
  switch (name) {
    case 'serviceKeys':
      return vars.HERALD_SERVICE_KEYS?.some(({ key }) => key === DEVELOPMENT_SERVICE_KEY) ?? false;
    case 'deviceSecret':
      return vars.HERALD_DEVICE_SECRET === DEVELOPMENT_SECRETS.deviceSecret;
    case 'adminPassword':
      return vars.HERALD_ADMIN_PASSWORD === DEVELOPMENT_SECRETS.adminPassword;
    case 'adminUser':
      return false;
  }
}

/**
 * The environment's variables (`EnvSchema`) turned into an app's typed config, with what involves
 * several variables or the app checked: the secrets it needs in production, a delivering worker's
 * push providers. `HeraldConfig` is this schema's output.
 */
function configSchema(app: AppName) {
  return EnvSchema.transform((vars, ctx) => {
    const report: Report = (message, variable) => {
      ctx.issues.push({ code: 'custom', input: vars, message, path: variable === undefined ? [] : [variable] });
    };
    const production = vars.NODE_ENV === 'production';
    if (vars.REDIS_CLUSTER_NODES !== undefined && (vars.REDIS_URL === undefined || !isClusterUrl(vars.REDIS_URL))) {
      report('seeds of a Redis Cluster, for REDIS_URL=redis+cluster://host:port only', 'REDIS_CLUSTER_NODES');
    }

    const given: Record<Secret, unknown> = {
      serviceKeys: vars.HERALD_SERVICE_KEYS,
      deviceSecret: vars.HERALD_DEVICE_SECRET,
      adminUser: vars.HERALD_ADMIN_USER,
      adminPassword: vars.HERALD_ADMIN_PASSWORD,
    };
    const needed = SECRETS_BY_APP[app];
    const missing = needed.filter((secret) => given[secret] === undefined);
    if (production && missing.length > 0) {
      report(`Missing secrets for production (NODE_ENV=production): set ${missing.map((secret) => SECRET_VARS[secret]).join(', ')}.`);
    }
    if (production) {
      for (const secret of needed.filter((name) => isDevelopmentDefault(name, vars))) {
        report('the published development default cannot be used in production (NODE_ENV=production); set a secret of your own.', SECRET_VARS[secret]);
      }
      if (needed.includes('deviceSecret') && vars.HERALD_DEVICE_SECRET !== undefined && vars.HERALD_DEVICE_SECRET.length < 32) {
        report('must be at least 32 characters in production.', 'HERALD_DEVICE_SECRET');
      }
    }
    const delivers = app === 'worker' && vars.HERALD_WORKER_ROLES.includes('delivery');

    return {
      production,
      /**
       * Absent: the launcher's embedded Redis provides it. `redis+cluster://` / `rediss+cluster://`:
       * a Redis Cluster, this being one seed node.
       */
      redisUrl: vars.REDIS_URL,
      /** More seed nodes of the Redis Cluster (`host:port`); only with a cluster URL. */
      redisClusterNodes: vars.REDIS_CLUSTER_NODES,
      /**
       * Writes that must survive a master's failover (an accepted event before ingest answers 202,
       * a routed batch's history and jobs before its entries are acknowledged) wait until this many
       * replicas of their master have them (WAIT), failing after `timeoutMs`. 0: no waiting.
       */
      replicaAcks: { replicas: vars.HERALD_REDIS_WAIT_REPLICAS, timeoutMs: vars.HERALD_REDIS_WAIT_TIMEOUT_MS },
      /** Where `npm start` keeps the embedded Redis's data; absent: `.herald/` in the repository. */
      dataDir: vars.HERALD_DATA_DIR,
      keyPrefix: vars.HERALD_KEY_PREFIX,
      ports: { ingest: vars.INGEST_PORT, gateway: vars.GATEWAY_PORT, dashboard: vars.DASHBOARD_PORT, worker: vars.WORKER_PORT, demo: vars.DEMO_PORT },
      serviceKeys: vars.HERALD_SERVICE_KEYS ?? [{ name: 'dev', key: DEVELOPMENT_SERVICE_KEY }],
      deviceSecret: vars.HERALD_DEVICE_SECRET ?? DEVELOPMENT_SECRETS.deviceSecret,
      deviceTokenTtlSeconds: vars.HERALD_DEVICE_TOKEN_TTL_SECONDS,
      admin: { user: vars.HERALD_ADMIN_USER ?? DEVELOPMENT_SECRETS.adminUser, password: vars.HERALD_ADMIN_PASSWORD ?? DEVELOPMENT_SECRETS.adminPassword },
      /** The dashboard's queue board: read-only (the default) or allowed to retry, clean and promote jobs. */
      dashboard: { readOnly: vars.HERALD_DASHBOARD_READ_ONLY },
      catalogPath: vars.HERALD_CATALOG,
      /**
       * Per priority: its stream partitions (changing it re-maps accounts: drain first), and the
       * entries in one partition past which ingest answers 429 for it.
       */
      priorities: {
        high: { partitions: vars.HERALD_PARTITIONS_HIGH, backlogLimit: vars.HERALD_BACKLOG_LIMIT_HIGH },
        medium: { partitions: vars.HERALD_PARTITIONS_MEDIUM, backlogLimit: vars.HERALD_BACKLOG_LIMIT_MEDIUM },
        low: { partitions: vars.HERALD_PARTITIONS_LOW, backlogLimit: vars.HERALD_BACKLOG_LIMIT_LOW },
      },
      dedupWindowMs: vars.HERALD_DEDUP_WINDOW_MS,
      /** How long event traces (`GET /v1/events/:id`) are kept; 0 turns tracing off. */
      traceWindowMs: vars.HERALD_TRACE_WINDOW_MS,
      history: { maxLength: vars.HERALD_HISTORY_MAX_LENGTH, retentionMs: vars.HERALD_HISTORY_RETENTION_MS },
      /**
       * Live messages (of up to 100 pushes each) each partition's live stream keeps: how far a
       * gateway node may fall behind a partition before it resyncs its connections from history.
       */
      liveStreamLength: vars.HERALD_LIVE_STREAM_LENGTH,
      worker: {
        /** The priorities whose partitions this process routes. */
        priorities: vars.HERALD_WORKER_PRIORITIES,
        roles: vars.HERALD_WORKER_ROLES,
        /** Stream entries read at once, per priority. */
        batchSize: { high: vars.HERALD_WORKER_BATCH_HIGH, medium: vars.HERALD_WORKER_BATCH_MEDIUM, low: vars.HERALD_WORKER_BATCH_LOW },
        /** Partitions of a priority this process routes at once (at most). */
        concurrency: { high: vars.HERALD_WORKER_CONCURRENCY_HIGH, medium: vars.HERALD_WORKER_CONCURRENCY_MEDIUM, low: vars.HERALD_WORKER_CONCURRENCY_LOW },
        /** A partition whose router stops renewing its lease is taken over after this. */
        leaseMs: vars.HERALD_WORKER_LEASE_MS,
        /** Entries pending this long are reclaimed and retried. */
        reclaimIdleMs: vars.HERALD_WORKER_RECLAIM_IDLE_MS,
        /** Deliveries of a stream entry after which it goes to the dead letters. */
        maxDeliveries: vars.HERALD_WORKER_MAX_DELIVERIES,
        /**
         * OS scheduling niceness the process sets on itself (0..19). On a host shared with
         * higher-priority work, a worker of low priorities at 10 gives way for CPU, so a flood it
         * routes delays high-priority routing less.
         */
        nice: vars.HERALD_WORKER_NICE,
        deliveryConcurrency: vars.HERALD_DELIVERY_CONCURRENCY,
        deliveryAttempts: vars.HERALD_DELIVERY_ATTEMPTS,
        /**
         * The mobile push providers. Only a worker that runs the delivery role has them (it alone
         * sends signals): undefined in every other process. Incomplete settings stop that worker.
         */
        push: delivers ? pushConfig(vars, report) : undefined,
      },
      gateway: {
        /** This process's presence id; absent: a random one per process. */
        nodeId: vars.HERALD_GATEWAY_NODE_ID,
        /** A device counts as online this long after its gateway's last heartbeat (refreshed every ttl/3). */
        presenceTtlMs: vars.HERALD_PRESENCE_TTL_MS,
        /** A connection is asked to reconnect after this, minus a random dither of up to `lifetimeDitherMs`. */
        connectionMaxLifetimeMs: vars.HERALD_CONNECTION_MAX_LIFETIME_MS,
        lifetimeDitherMs: Math.min(vars.HERALD_CONNECTION_LIFETIME_DITHER_MS, vars.HERALD_CONNECTION_MAX_LIFETIME_MS / 2),
        /** Browser origins allowed to connect and pull; undefined: any (clients without Origin always may). */
        allowedOrigins: vars.HERALD_ALLOWED_ORIGINS,
        /**
         * Live messages (of up to 100 pushes each) a priority's lane keeps waiting on a gateway node;
         * past it the oldest are dropped, and devices get them from history.
         */
        liveLaneLimit: vars.HERALD_GATEWAY_LIVE_LANE_LIMIT,
      },
      /** The development demo app (`apps/demo`): a client of ingest and the gateway like any other. */
      demo: {
        /**
         * Whether the demo may run. Never in production. Otherwise `HERALD_DEMO` decides, and when it
         * is unset, only while the development service key is in use: the demo registers devices for
         * anyone who opens it, which a deployment with real service keys must not do by accident.
         */
        enabled: !production && (vars.HERALD_DEMO === undefined ? vars.HERALD_SERVICE_KEYS === undefined : vars.HERALD_DEMO === 'true'),
        /** Ingest's base URL: the demo registers its devices and sends its sample events there. */
        ingestUrl: (vars.HERALD_INGEST_URL ?? `http://127.0.0.1:${vars.INGEST_PORT}`).replace(/\/+$/, ''),
        /** The gateway's base URL as the browser reaches it: the page's devices connect and pull there. */
        gatewayUrl: (vars.HERALD_GATEWAY_URL ?? `http://localhost:${vars.GATEWAY_PORT}`).replace(/\/+$/, ''),
      },
      /**
       * Prioritized load shedding. Ingest computes the overload level from the signals and sheds low,
       * then medium priority at the door; workers yield those priorities' routing and delivery at the
       * level ingest publishes. High priority is never shed.
       */
      overload: {
        /** `HERALD_SHEDDING`: off on ingest turns shedding off everywhere (workers follow ingest's level). */
        enabled: vars.HERALD_SHEDDING,
        /** Past any of these the host counts as overloaded; 0 leaves a signal out. */
        thresholds: {
          /** Host CPU busy fraction, 0..1. */
          cpu: vars.HERALD_SHED_CPU,
          /** Event-loop delay p99 of ingest and the workers, ms. */
          eventLoopDelayMs: vars.HERALD_SHED_EVENT_LOOP_DELAY_MS,
          /** Redis PING round trip (p90 of a tick), ms. */
          redisRttMs: vars.HERALD_SHED_REDIS_RTT_MS,
          /** Age of the oldest high-priority entry the router has not read yet, ms. */
          highAgeMs: vars.HERALD_SHED_HIGH_AGE_MS,
        },
        /** A yielded priority is shed at ingest once its oldest unrouted entry is this old (ms). */
        queueAgeMs: vars.HERALD_SHED_QUEUE_AGE_MS,
        /** Released (recovering) when every signal is below this fraction of its threshold. */
        releaseRatio: vars.HERALD_SHED_RELEASE_RATIO,
        /** How often the signals are read and the level updated (ms). */
        intervalMs: vars.HERALD_SHED_INTERVAL_MS,
        /** `Retry-After` of a fully shed priority; less while partly shed (at least 1 s). */
        maxRetryAfterSeconds: vars.HERALD_SHED_MAX_RETRY_AFTER_SECONDS,
        /** Pause of a fully yielded priority's router and delivery between batches (ms). */
        maxPauseMs: vars.HERALD_SHED_MAX_PAUSE_MS,
      },
      logLevel: vars.HERALD_LOG_LEVEL,
      /**
       * What the app logs as warnings at start-up: each development default it fell back on and
       * (added by `loadConfig`) each unknown HERALD_* variable.
       */
      warnings: missing.map((name) => `development default in use: ${SECRET_VARS[name]}=${DEVELOPMENT_SECRETS[name]}`),
    };
  });
}

/** An app's configuration: the output of its config schema. */
export type HeraldConfig = z.output<ReturnType<typeof configSchema>>;
export type ServiceKey = HeraldConfig['serviceKeys'][number];
export type PriorityConfig = HeraldConfig['priorities']['high'];
export type WorkerConfig = HeraldConfig['worker'];
export type PushConfig = NonNullable<WorkerConfig['push']>;
/** One mobile platform's push provider and what it needs. Key files are read by the worker when it builds the provider. */
export type PushProviderConfig = PushConfig['ios'];
export type GatewayConfig = HeraldConfig['gateway'];
export type DemoConfig = HeraldConfig['demo'];
export type OverloadConfig = HeraldConfig['overload'];

/** The environment with empty variables left out: compose's `${X:-}` and shells give empty strings for unset ones. */
export function setVariables(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

/** The lines of a ConfigError: one per problem, each naming its variable. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`));
}

/**
 * Parses the environment once, at boot, into a typed config. Throws a ConfigError naming every
 * bad variable; in production also every missing secret the app needs.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, app: AppName): HeraldConfig {
  const result = configSchema(app).safeParse(setVariables(env));
  if (!result.success)
    throw new ConfigError(
      `Invalid configuration:\n${describeIssues(result.error.issues)
        .map((line) => `  ${line}`)
        .join('\n')}`,
    );
  const config = result.data;
  return { ...config, warnings: [...unknownVariables(env).map(describeUnknownVariable), ...config.warnings] };
}

/** What would stop `app` from starting with `env`, one line per problem, as `loadConfig` says it; empty when nothing would. */
export function configProblems(env: Readonly<Record<string, string | undefined>>, app: AppName): string[] {
  const result = configSchema(app).safeParse(setVariables(env));
  return result.success ? [] : describeIssues(result.error.issues);
}

/** The Redis URL an app needs when run on its own; a ConfigError saying what to do when unset. */
export function requireRedisUrl(config: HeraldConfig): string {
  if (config.redisUrl === undefined) {
    throw new ConfigError('REDIS_URL is not set. Run `npm start` (it starts an embedded Redis) or point REDIS_URL at your Redis.');
  }
  return config.redisUrl;
}
