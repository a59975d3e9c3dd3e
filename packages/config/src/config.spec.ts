import { expect } from 'chai';
import type { Priority } from '@herald/contracts';
import { ConfigError, VARIABLES, editDistance, listVariables, loadConfig, unknownVariables } from './index.js';
import type { HeraldConfig, PushProviderConfig } from './index.js';

/** True when A and B are the same type: the config's types are inferred from its schema, and this pins a few. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const inferred: [
  Equal<HeraldConfig['ports'], { ingest: number; gateway: number; dashboard: number; worker: number; demo: number }>,
  Equal<HeraldConfig['worker']['priorities'], Priority[]>,
  Equal<HeraldConfig['worker']['roles'], ('router' | 'delivery')[]>,
  Equal<HeraldConfig['logLevel'], 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>,
  Equal<HeraldConfig['gateway']['allowedOrigins'], string[] | undefined>,
  Equal<PushProviderConfig['provider'], 'log' | 'webhook' | 'apns' | 'fcm'>,
] = [true, true, true, true, true, true];

describe('config', () => {
  it('falls back on documented development defaults and lists them', () => {
    const config = loadConfig({}, 'ingest');
    expect(config.production).to.equal(false);
    expect(config.ports).to.deep.equal({ ingest: 3100, gateway: 3200, dashboard: 3300, worker: 3400, demo: 3500 });
    expect(config.worker.priorities).to.deep.equal(['high', 'medium', 'low']);
    expect(config.serviceKeys).to.deep.equal([{ name: 'dev', key: 'dev-service-key' }]);
    expect(config.warnings).to.include('development default in use: HERALD_SERVICE_KEYS=dev:dev-service-key');
    expect(config.priorities.high.partitions).to.equal(4);
  });

  it('refuses to start in production without the secrets the app needs', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' }, 'ingest')).to.throw(ConfigError, /HERALD_SERVICE_KEYS, HERALD_DEVICE_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production' }, 'dashboard')).to.throw(ConfigError, /HERALD_ADMIN_USER/);
    const config = loadConfig({ NODE_ENV: 'production', HERALD_SERVICE_KEYS: 'billing:0123456789', HERALD_DEVICE_SECRET: 'x'.repeat(32) }, 'ingest');
    expect(config.warnings).to.deep.equal([]);
  });

  describe('refuses the published development defaults in production (regression: the development device secret passed the 32-character check)', () => {
    const real = {
      NODE_ENV: 'production',
      HERALD_SERVICE_KEYS: 'billing:0123456789',
      HERALD_DEVICE_SECRET: 'x'.repeat(32),
      HERALD_ADMIN_USER: 'ops',
      HERALD_ADMIN_PASSWORD: 'a-real-password',
    };
    const cases: [string, Record<string, string>, 'ingest' | 'worker' | 'gateway' | 'dashboard', RegExp][] = [
      [
        'the development device secret',
        { HERALD_DEVICE_SECRET: 'dev-device-secret-not-for-production' },
        'gateway',
        /HERALD_DEVICE_SECRET: the published development default/,
      ],
      [
        'the development device secret (ingest signs tokens too)',
        { HERALD_DEVICE_SECRET: 'dev-device-secret-not-for-production' },
        'ingest',
        /HERALD_DEVICE_SECRET/,
      ],
      ['the development service key', { HERALD_SERVICE_KEYS: 'dev:dev-service-key' }, 'ingest', /HERALD_SERVICE_KEYS: the published development default/],
      [
        'the development service key under another name, beside a real one',
        { HERALD_SERVICE_KEYS: 'billing:0123456789, ops:dev-service-key' },
        'worker',
        /HERALD_SERVICE_KEYS/,
      ],
      ['the development admin password', { HERALD_ADMIN_PASSWORD: 'admin' }, 'dashboard', /HERALD_ADMIN_PASSWORD: the published development default/],
    ];
    for (const [what, env, app, message] of cases) {
      it(`refuses ${what} for ${app}`, () => {
        expect(() => loadConfig({ ...real, ...env }, app)).to.throw(ConfigError, message);
      });
    }

    it('takes them outside production, and real secrets in production', () => {
      expect(loadConfig({ HERALD_DEVICE_SECRET: 'dev-device-secret-not-for-production', HERALD_ADMIN_PASSWORD: 'admin' }, 'dashboard').admin.password).to.equal(
        'admin',
      );
      for (const app of ['ingest', 'worker', 'gateway', 'dashboard'] as const) expect(() => loadConfig(real, app)).not.to.throw();
      expect(loadConfig({ ...real, HERALD_ADMIN_USER: 'admin' }, 'dashboard').admin.user).to.equal('admin');
    });
  });

  it('names every bad variable at once', () => {
    const load = () => loadConfig({ INGEST_PORT: 'abc', REDIS_URL: 'http://x', HERALD_PARTITIONS_LOW: '0' }, 'ingest');
    expect(load).to.throw(ConfigError, /INGEST_PORT/);
    expect(load).to.throw(/REDIS_URL: must be a redis/);
    expect(() => loadConfig({ REDIS_URL: 'unix:redis.sock' }, 'worker')).to.throw(/REDIS_URL: a unix:\/\/ URL names the socket file/);
    expect(() => loadConfig({ REDIS_URL: 'unix:///run/redis.sock?db=two' }, 'worker')).to.throw(/REDIS_URL: a unix:\/\/ URL/);
    expect(loadConfig({ REDIS_URL: 'unix:///run/redis/redis.sock?db=2' }, 'worker').redisUrl).to.equal('unix:///run/redis/redis.sock?db=2');
    expect(load).to.throw(/HERALD_PARTITIONS_LOW/);
    expect(() => loadConfig({ HERALD_SERVICE_KEYS: 'nokey' }, 'ingest')).to.throw(/HERALD_SERVICE_KEYS: "nokey" must be name:key/);
    expect(() => loadConfig({ HERALD_ALLOWED_ORIGINS: 'https://app.example, https://app.example/path' }, 'gateway')).to.throw(
      /HERALD_ALLOWED_ORIGINS: "https:\/\/app.example\/path" must be an origin/,
    );
    expect(loadConfig({ HERALD_ALLOWED_ORIGINS: 'https://app.example, http://tv.example:8080' }, 'gateway').gateway.allowedOrigins).to.deep.equal([
      'https://app.example',
      'http://tv.example:8080',
    ]);
    expect(loadConfig({ HERALD_ALLOWED_ORIGINS: '*' }, 'gateway').gateway.allowedOrigins).to.equal(undefined);
    expect(() => loadConfig({ HERALD_SERVICE_KEYS: 'a:short' }, 'ingest')).to.throw(/8 or more/);
    expect(() => loadConfig({ HERALD_WORKER_NICE: '20' }, 'worker')).to.throw(/HERALD_WORKER_NICE/);
    expect(() => loadConfig({ HERALD_TRACE_WINDOW_MS: '-1' }, 'worker')).to.throw(/HERALD_TRACE_WINDOW_MS/);
    expect(() => loadConfig({ HERALD_GATEWAY_LIVE_LANE_LIMIT: '0' }, 'gateway')).to.throw(/HERALD_GATEWAY_LIVE_LANE_LIMIT/);
    expect(loadConfig({ HERALD_GATEWAY_LIVE_LANE_LIMIT: '500' }, 'gateway').gateway.liveLaneLimit).to.equal(500);
  });

  it('takes a Redis Cluster as redis+cluster:// (rediss+cluster:// with TLS), with more seeds in REDIS_CLUSTER_NODES', () => {
    expect(loadConfig({ REDIS_URL: 'redis+cluster://10.0.0.5:7000' }, 'worker')).to.include({
      redisUrl: 'redis+cluster://10.0.0.5:7000',
      redisClusterNodes: undefined,
    });
    const tls = loadConfig(
      { REDIS_URL: 'rediss+cluster://herald:s%40cret@redis.example.com:6380', REDIS_CLUSTER_NODES: 'a.example.com:6380, b.example.com:6380' },
      'gateway',
    );
    expect(tls.redisUrl).to.equal('rediss+cluster://herald:s%40cret@redis.example.com:6380');
    expect(tls.redisClusterNodes).to.deep.equal(['a.example.com:6380', 'b.example.com:6380']);
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://10.0.0.5:7000/2' }, 'worker')).to.throw(/REDIS_URL: a Redis Cluster URL names one node/);
    expect(() => loadConfig({ REDIS_URL: 'redis://10.0.0.5:6379', REDIS_CLUSTER_NODES: '10.0.0.6:6379' }, 'worker')).to.throw(
      /REDIS_CLUSTER_NODES: seeds of a Redis Cluster/,
    );
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://10.0.0.5:7000', REDIS_CLUSTER_NODES: '10.0.0.6' }, 'worker')).to.throw(
      /REDIS_CLUSTER_NODES.*host:port/,
    );
    expect(loadConfig({}, 'ingest').replicaAcks).to.deep.equal({ replicas: 0, timeoutMs: 1000 });
    expect(loadConfig({ HERALD_REDIS_WAIT_REPLICAS: '1', HERALD_REDIS_WAIT_TIMEOUT_MS: '250' }, 'worker').replicaAcks).to.deep.equal({
      replicas: 1,
      timeoutMs: 250,
    });
  });

  it('runs the demo only outside production, and with real service keys only when asked', () => {
    expect(loadConfig({}, 'demo').demo.enabled).to.equal(true);
    expect(loadConfig({ HERALD_SERVICE_KEYS: 'billing:0123456789' }, 'demo').demo.enabled).to.equal(false);
    expect(loadConfig({ HERALD_SERVICE_KEYS: 'billing:0123456789', HERALD_DEMO: 'true' }, 'demo').demo.enabled).to.equal(true);
    expect(loadConfig({ HERALD_DEMO: 'false' }, 'demo').demo.enabled).to.equal(false);
    const production = { NODE_ENV: 'production', HERALD_SERVICE_KEYS: 'billing:0123456789', HERALD_DEMO: 'true' };
    expect(loadConfig(production, 'demo').demo.enabled).to.equal(false);
    expect(() => loadConfig({ HERALD_DEMO: 'yes' }, 'demo')).to.throw(/HERALD_DEMO: must be true or false/);
  });

  it('points the demo at ingest and at the gateway as a browser reaches it', () => {
    expect(loadConfig({ INGEST_PORT: '4100', GATEWAY_PORT: '4200' }, 'demo').demo).to.include({
      ingestUrl: 'http://127.0.0.1:4100',
      gatewayUrl: 'http://localhost:4200',
    });
    const given = loadConfig({ HERALD_INGEST_URL: 'http://ingest:3100/', HERALD_GATEWAY_URL: 'https://push.example.com/' }, 'demo').demo;
    expect(given).to.include({ ingestUrl: 'http://ingest:3100', gatewayUrl: 'https://push.example.com' });
    expect(() => loadConfig({ HERALD_GATEWAY_URL: 'ws://gateway' }, 'demo')).to.throw(/HERALD_GATEWAY_URL: must be an http/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ REDIS_URL: '', HERALD_PUSH_WEBHOOK_URL: '', INGEST_PORT: '' }, 'ingest').ports.ingest).to.equal(3100);
  });

  it("chooses each mobile platform's push provider, HERALD_PUSH_PROVIDER being the default of both", () => {
    expect(loadConfig({}, 'worker').worker.push).to.deep.equal({
      ios: { provider: 'log' },
      android: { provider: 'log' },
      timeoutMs: 5000,
      concurrency: 100,
      coalesceMs: 1000,
    });
    expect(loadConfig({ HERALD_PUSH_COALESCE_MS: '0' }, 'worker').worker.push?.coalesceMs).to.equal(0);
    const apns = {
      HERALD_APNS_KEY_FILE: '/keys/apns.p8',
      HERALD_APNS_KEY_ID: 'ABC123DEFG',
      HERALD_APNS_TEAM_ID: 'TEAM123456',
      HERALD_APNS_TOPIC: 'com.example.app',
    };
    const push = loadConfig(
      { ...apns, HERALD_PUSH_PROVIDER: 'fcm', HERALD_PUSH_PROVIDER_IOS: 'apns', HERALD_FCM_SERVICE_ACCOUNT_FILE: '/keys/fcm.json' },
      'worker',
    ).worker.push;
    expect(push?.ios).to.deep.equal({
      provider: 'apns',
      keyFile: '/keys/apns.p8',
      keyId: 'ABC123DEFG',
      teamId: 'TEAM123456',
      topic: 'com.example.app',
      url: 'https://api.push.apple.com',
    });
    expect(push?.android).to.deep.equal({ provider: 'fcm', serviceAccountFile: '/keys/fcm.json', url: 'https://fcm.googleapis.com' });
    const sandbox = loadConfig({ ...apns, HERALD_PUSH_PROVIDER_IOS: 'apns', HERALD_APNS_URL: 'https://api.sandbox.push.apple.com' }, 'worker').worker.push;
    expect(sandbox?.ios).to.include({ url: 'https://api.sandbox.push.apple.com' });
    expect(sandbox?.android).to.deep.equal({ provider: 'log' });
  });

  it('stops a delivering worker whose push provider lacks settings, naming every missing one', () => {
    expect(() => loadConfig({ HERALD_PUSH_PROVIDER_IOS: 'apns', HERALD_APNS_KEY_ID: 'ABC123DEFG' }, 'worker')).to.throw(
      ConfigError,
      /HERALD_PUSH_PROVIDER_IOS=apns \(the ios provider\) needs HERALD_APNS_KEY_FILE, HERALD_APNS_TEAM_ID, HERALD_APNS_TOPIC/,
    );
    expect(() => loadConfig({ HERALD_PUSH_PROVIDER: 'fcm' }, 'worker')).to.throw(
      /HERALD_PUSH_PROVIDER=fcm \(the ios provider\) needs HERALD_FCM_SERVICE_ACCOUNT_FILE[\s\S]*the android provider/,
    );
    expect(() => loadConfig({ HERALD_PUSH_PROVIDER_ANDROID: 'webhook' }, 'worker')).to.throw(/needs HERALD_PUSH_WEBHOOK_URL/);
    // With every other problem at once: a production worker without its secret, too.
    expect(() => loadConfig({ NODE_ENV: 'production', HERALD_PUSH_PROVIDER: 'fcm' }, 'worker')).to.throw(
      /set HERALD_SERVICE_KEYS\.\n[\s\S]*needs HERALD_FCM_SERVICE_ACCOUNT_FILE/,
    );
    expect(() => loadConfig({ HERALD_PUSH_PROVIDER: 'apns', HERALD_PUSH_PROVIDER_IOS: 'log' }, 'worker')).to.throw(/APNs reaches Apple devices only/);
    expect(() => loadConfig({ HERALD_APNS_KEY_ID: 'short' }, 'worker')).to.throw(/HERALD_APNS_KEY_ID: must be the 10-character key id/);
    expect(() => loadConfig({ HERALD_APNS_URL: 'https://api.push.apple.com/3/device' }, 'worker')).to.throw(/HERALD_APNS_URL: must be an origin/);
    // Only a worker that delivers sends signals, so no other process needs these settings.
    expect(loadConfig({ HERALD_PUSH_PROVIDER: 'fcm' }, 'ingest').worker.push).to.equal(undefined);
    expect(loadConfig({ HERALD_PUSH_PROVIDER: 'fcm', HERALD_WORKER_ROLES: 'router' }, 'worker').worker.push).to.equal(undefined);
  });

  it('sheds load by default, with every threshold and switch readable from the environment', () => {
    const { overload } = loadConfig({}, 'ingest');
    expect(overload).to.deep.equal({
      enabled: true,
      thresholds: { cpu: 0.8, eventLoopDelayMs: 25, redisRttMs: 5, highAgeMs: 100 },
      queueAgeMs: 2000,
      releaseRatio: 0.85,
      intervalMs: 250,
      maxRetryAfterSeconds: 5,
      maxPauseMs: 100,
    });
    const tuned = loadConfig({ HERALD_SHEDDING: 'false', HERALD_SHED_CPU: '0', HERALD_SHED_REDIS_RTT_MS: '2.5' }, 'worker').overload;
    expect(tuned).to.deep.include({ enabled: false });
    expect(tuned.thresholds).to.deep.include({ cpu: 0, redisRttMs: 2.5 });
    expect(() => loadConfig({ HERALD_SHEDDING: 'off' }, 'ingest')).to.throw(/HERALD_SHEDDING: must be true or false/);
    expect(() => loadConfig({ HERALD_SHED_CPU: '1.5' }, 'ingest')).to.throw(/HERALD_SHED_CPU/);
    expect(() => loadConfig({ HERALD_SHED_RELEASE_RATIO: '1' }, 'ingest')).to.throw(/HERALD_SHED_RELEASE_RATIO/);
    expect(() => loadConfig({ HERALD_SHED_INTERVAL_MS: '10' }, 'ingest')).to.throw(/HERALD_SHED_INTERVAL_MS/);
  });

  it('parses several service keys', () => {
    const config = loadConfig({ HERALD_SERVICE_KEYS: 'billing:aaaaaaaa, playback:bbbbbbbb' }, 'ingest');
    expect(config.serviceKeys.map((k) => k.name)).to.deep.equal(['billing', 'playback']);
  });

  it('has the inferred types its users rely on (checked by the typecheck)', () => {
    expect(inferred.every(Boolean)).to.equal(true);
  });

  it('parses every fixed default of the variable table', () => {
    for (const variable of VARIABLES.filter((v) => v.default !== undefined)) {
      expect(variable.schema.safeParse(variable.default).success, variable.name).to.equal(true);
    }
    expect(VARIABLES.filter((v) => v.perPriority !== undefined)).to.have.length(12);
  });
});

describe('unknown HERALD_* variables', () => {
  it('warns once about each, naming the closest known variable (regression: a mistyped name was silently ignored)', () => {
    const env = {
      HERALD_GATWAY_URL: 'http://x',
      HERALD_PARTITONS_LOW: '8',
      HERALD_GATEWAY_PORT: '80',
      HERALD_REDIS_URL: 'redis://x',
      HERALD_LOGLEVEL: 'debug',
      HERALD_NOTHING_LIKE_IT: '1',
    };
    expect(loadConfig(env, 'gateway').warnings).to.deep.equal([
      'unknown variable HERALD_GATEWAY_PORT (ignored); did you mean GATEWAY_PORT?',
      'unknown variable HERALD_GATWAY_URL (ignored); did you mean HERALD_GATEWAY_URL?',
      'unknown variable HERALD_LOGLEVEL (ignored); did you mean HERALD_LOG_LEVEL?',
      'unknown variable HERALD_NOTHING_LIKE_IT (ignored); no Herald variable is close to it (`herald config` lists them)',
      'unknown variable HERALD_PARTITONS_LOW (ignored); did you mean HERALD_PARTITIONS_LOW?',
      'unknown variable HERALD_REDIS_URL (ignored); did you mean REDIS_URL?',
      'development default in use: HERALD_DEVICE_SECRET=dev-device-secret-not-for-production',
    ]);
  });

  it('passes over the variables of the CLI, the tests and the benchmarks, and variables that are not HERALD_*', () => {
    const env = {
      HERALD_GATEWAY_URL: 'http://x',
      HERALD_SERVICE_KEY: 'k',
      HERALD_CLI_FROM_SOURCE: '1',
      HERALD_TEST_REDIS: 'cluster',
      HERALD_BENCH_AOF: '0',
      HERALD_PROBE: '{}',
      HOME: '/root',
      GATWAY_PORT: '1',
    };
    expect(unknownVariables(env)).to.deep.equal([]);
    expect(unknownVariables({ ...env, HERALD_SERVICE_KEYZ: 'k' })).to.deep.equal([{ name: 'HERALD_SERVICE_KEYZ', suggestion: 'HERALD_SERVICE_KEYS' }]);
  });

  it('counts edits, a swapped pair of letters as one', () => {
    expect(editDistance('HERALD_DEMO', 'HERALD_DEMO')).to.equal(0);
    expect(editDistance('GATWAY', 'GATEWAY')).to.equal(1);
    expect(editDistance('PARTITONS', 'PARTITIONS')).to.equal(1);
    expect(editDistance('CLUSETR', 'CLUSTER')).to.equal(1);
    expect(editDistance('abc', '')).to.equal(3);
  });
});

describe('listing the variables (herald config)', () => {
  it('shows each value, where it comes from and its default, secrets masked', () => {
    const listing = listVariables({
      INGEST_PORT: '4100',
      REDIS_URL: 'redis://herald:s3cret@redis.example.com:6379',
      HERALD_SERVICE_KEYS: 'billing:0123456789, ops:abcdefghij',
      HERALD_DEVICE_SECRET: 'x'.repeat(32),
      HERALD_PARTITIONS_LOW: 'many',
      HERALD_CATALOG: '',
    });
    const byName = new Map(listing.map((variable) => [variable.name, variable]));
    expect(listing.map((variable) => variable.name)).to.deep.equal(VARIABLES.map((variable) => variable.name));
    expect(byName.get('INGEST_PORT')).to.deep.include({ value: '4100', source: 'env', default: '3100', problem: undefined, group: 'Ports' });
    expect(byName.get('GATEWAY_PORT')).to.deep.include({ value: '3200', source: 'default', default: '3200' });
    expect(byName.get('HERALD_CATALOG')).to.deep.include({ value: undefined, source: 'unset', default: 'the shipped catalog' });
    expect(byName.get('REDIS_URL')?.value).to.equal('redis://herald:********@redis.example.com:6379');
    expect(byName.get('HERALD_SERVICE_KEYS')?.value).to.equal('billing:********,ops:********');
    expect(byName.get('HERALD_DEVICE_SECRET')?.value).to.equal('********');
    expect(byName.get('HERALD_PARTITIONS_LOW')?.problem).to.match(/expected number/);
    expect(JSON.stringify(listing)).not.to.match(/s3cret|0123456789|abcdefghij|xxxxxxxx/);
  });
});
