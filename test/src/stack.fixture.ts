import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@herald/config';
import type { HeraldConfig } from '@herald/config';
import { createGateway, createGatewayWiring } from '@herald/gateway';
import type { Gateway, GatewayWiring } from '@herald/gateway';
import { createIngestApp, createIngestDeps } from '@herald/ingest';
import type { IngestWiringOverrides } from '@herald/ingest';
import { closeRedis, createRedis } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { useTestRedis } from '@herald/testing';
import type { TestRedis } from '@herald/testing';
import { createWorker, createWorkerDeps } from '@herald/worker';
import type { HeraldWorker } from '@herald/worker';

export const SERVICE_KEY = 'stack-test-service-key';

/** The whole of Herald in this process, on free ports, against the test's Redis and prefix. */
export interface Stack {
  /** The test's Redis: its url, key prefix and a client for checks. */
  redis: TestRedis;
  config: HeraldConfig;
  ingestUrl: string;
  gatewayUrl: string;
  workerUrl: string;
  serviceKey: string;
  /** `Authorization` + JSON headers for the service-facing API. */
  serviceHeaders: Record<string, string>;
  /** Registers a device through ingest; resolves with its id and token. */
  registerDevice(input: { accountId: string; platform: string; deviceId?: string; profileId?: string }): Promise<{ deviceId: string; token: string }>;
  /** POST /v1/events; resolves with the parsed 202 body (throws on any other status). */
  send(event: Record<string, unknown>): Promise<{ id: string; status: string; priority: string }>;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  if (!server.listening) await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Starts ingest, worker (every priority, both roles) and gateway in this process for each test,
 * stopped after it (before the test's Redis keys are deleted). Gives each test its own Redis
 * prefix too: do not also call `useTestRedis()`. Read the fields inside tests.
 *
 * NODE_ENV is `test`. Load shedding is off unless `env` turns it on (`HERALD_SHEDDING: 'true'`),
 * with `overrides.overloadSignals` to drive it. The demo app is not part of it: `useDemo(stack)`.
 */
export function useStack(env: Record<string, string> = {}, overrides: IngestWiringOverrides = {}): Stack {
  const stack = {} as Stack;
  let stops: (() => Promise<void>)[] = [];
  // Registered before useTestRedis's hooks so that the apps stop before their keys are deleted.
  afterEach(async function () {
    this.timeout(40_000);
    for (const stop of stops.reverse()) await stop();
    stops = [];
  });
  const redis = useTestRedis();

  beforeEach(async function () {
    this.timeout(20_000);
    const vars: Record<string, string> = {
      NODE_ENV: 'test',
      HERALD_KEY_PREFIX: redis.prefix,
      HERALD_LOG_LEVEL: 'silent',
      HERALD_SERVICE_KEYS: `stack:${SERVICE_KEY}`,
      HERALD_DEVICE_SECRET: 'stack-test-device-secret-0123456789abcdef',
      HERALD_PARTITIONS_HIGH: '2',
      HERALD_PARTITIONS_MEDIUM: '2',
      HERALD_PARTITIONS_LOW: '2',
      HERALD_WORKER_LEASE_MS: '1000',
      // Load shedding reads this busy machine's CPU; the specs that test it drive it themselves.
      HERALD_SHEDDING: 'false',
      ...env,
    };
    stops = [];

    const config = loadConfig(vars, 'launcher');
    const ingestRedis: RedisClient = createRedis({ url: redis.url, name: 'stack-ingest', autoPipelining: true });
    const ingestDeps = createIngestDeps(config, ingestRedis, {}, undefined, overrides);
    const ingest = createIngestApp(ingestDeps).listen(0, '127.0.0.1');
    stops.push(async () => {
      ingest.close();
      ingest.closeAllConnections();
      await ingestDeps.overload?.stop();
      await closeRedis(ingestRedis);
    });
    const ingestUrl = await listen(ingest);

    // The worker's own config: only a worker that delivers has push providers (config.worker.push).
    const worker: HeraldWorker = createWorker(createWorkerDeps(loadConfig(vars, 'worker'), redis.url, { blockMs: 100 }));
    await worker.start();
    const workerHttp = worker.http.listen(0, '127.0.0.1');
    stops.push(async () => {
      workerHttp.close();
      workerHttp.closeAllConnections();
      await worker.stop();
    });

    const wiring: GatewayWiring = createGatewayWiring(config, redis.url);
    const gateway: Gateway = createGateway(wiring.deps, wiring.options);
    const gatewayPort = await gateway.listen(0, '127.0.0.1');
    stops.push(async () => {
      await gateway.close();
      await wiring.closeConnections();
    });

    const serviceHeaders = { authorization: `Bearer ${SERVICE_KEY}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown, expected: number) => {
      const response = await fetch(`${ingestUrl}${path}`, { method: 'POST', headers: serviceHeaders, body: JSON.stringify(body) });
      if (response.status !== expected) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<never>;
    };
    Object.assign(stack, {
      redis,
      config,
      ingestUrl,
      gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
      workerUrl: await listen(workerHttp),
      serviceKey: SERVICE_KEY,
      serviceHeaders,
      registerDevice: (input: object) => post('/v1/devices', input, 201),
      send: (event: object) => post('/v1/events', event, 202),
    });
  });

  return stack;
}
