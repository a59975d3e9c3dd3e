import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { loadConfig } from '@herald/config';
import { createDashboardApp, createDashboardDeps } from '@herald/dashboard';
import type { DashboardApp, DashboardDeps } from '@herald/dashboard';
import { createGateway, createGatewayWiring } from '@herald/gateway';
import type { Gateway, GatewayWiring } from '@herald/gateway';
import { createIngestApp, createIngestDeps } from '@herald/ingest';
import { closeRedis, createRedis } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { deleteKeysWithPrefix, testRedisServer, uniquePrefix } from '@herald/testing';
import { createWorker, createWorkerDeps } from '@herald/worker';
import type { HeraldWorker } from '@herald/worker';

/*
 * Hostile input over real HTTP and Socket.IO, against ingest, gateway, worker and dashboard in
 * this process: whatever a client sends, the answer is a 4xx in the contract's error shape,
 * never a 5xx (issue 17). One stack for the file: every case is a read or a refusal.
 */

const SERVICE_KEY = 'hostile-test-service-key';
const ADMIN = `Basic ${Buffer.from('admin:hostile-admin').toString('base64')}`;

interface Apps {
  prefix: string;
  redis: RedisClient;
  ingest: string;
  gateway: string;
  worker: string;
  dashboard: string;
  /** A web device's token, for the pull and the handshake. */
  token: string;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  if (!server.listening) await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startApps(): Promise<Apps> {
  const url = (await testRedisServer()).url;
  const prefix = uniquePrefix();
  const config = loadConfig(
    {
      NODE_ENV: 'test',
      HERALD_KEY_PREFIX: prefix,
      HERALD_LOG_LEVEL: 'silent',
      HERALD_SERVICE_KEYS: `hostile:${SERVICE_KEY}`,
      HERALD_DEVICE_SECRET: 'hostile-test-device-secret-0123456789abcdef',
      HERALD_ADMIN_USER: 'admin',
      HERALD_ADMIN_PASSWORD: 'hostile-admin',
      HERALD_WORKER_ROLES: 'router',
    },
    'launcher',
  );
  const stops: (() => Promise<void>)[] = [];
  const redis = createRedis({ url, name: 'hostile-test' });

  const ingestRedis = createRedis({ url, name: 'hostile-ingest' });
  const ingest = createIngestApp(createIngestDeps(config, ingestRedis)).listen(0, '127.0.0.1');
  stops.push(async () => {
    ingest.close();
    ingest.closeAllConnections();
    await closeRedis(ingestRedis);
  });

  const wiring: GatewayWiring = createGatewayWiring(config, url);
  const gateway: Gateway = createGateway(wiring.deps, wiring.options);
  const gatewayPort = await gateway.listen(0, '127.0.0.1');
  stops.push(async () => {
    await gateway.close();
    await wiring.closeConnections();
  });

  // The worker's operator API only: its router is built, never started.
  const worker: HeraldWorker = createWorker(createWorkerDeps(config, url));
  const workerHttp = worker.http.listen(0, '127.0.0.1');
  stops.push(async () => {
    workerHttp.close();
    workerHttp.closeAllConnections();
    await worker.stop();
  });

  const dashboardDeps: DashboardDeps = createDashboardDeps(config, url);
  const dashboard: DashboardApp = createDashboardApp(dashboardDeps);
  const dashboardHttp = dashboard.http.listen(0, '127.0.0.1');
  stops.push(async () => {
    dashboardHttp.close();
    await dashboard.close();
    dashboardHttp.closeAllConnections();
    await dashboardDeps.close();
  });

  const ingestUrl = await listen(ingest);
  const registered = await fetch(`${ingestUrl}/v1/devices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SERVICE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ accountId: 'acct-hostile', platform: 'web', deviceId: 'web-1' }),
  });
  const { token } = (await registered.json()) as { token: string };
  return {
    prefix,
    redis,
    ingest: ingestUrl,
    gateway: `http://127.0.0.1:${gatewayPort}`,
    worker: await listen(workerHttp),
    dashboard: await listen(dashboardHttp),
    token,
    async stop() {
      for (const stop of stops.reverse()) await stop();
      await deleteKeysWithPrefix(redis, prefix);
      await closeRedis(redis);
    },
  };
}

type AppName = 'ingest' | 'gateway' | 'worker' | 'dashboard';

interface HttpCase {
  what: string;
  app: AppName;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  code?: string;
  /** A `details` path the answer must name. */
  detail?: string;
}

const json = { 'content-type': 'application/json' };
const event = (fields: Record<string, unknown> = {}) => JSON.stringify({ type: 'plan.changed', accountId: 'acct-hostile', ...fields });
/** A body whose payload nests `depth` objects, built as text: JSON.stringify itself overflows on such values. */
const nested = (depth: number) => `{"type":"plan.changed","accountId":"acct-hostile","payload":${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}}`;
const corrupt = Buffer.from('these bytes are not compressed at all');

describe('hostile input', function () {
  this.timeout(30_000);
  let apps: Apps;
  before(async function () {
    this.timeout(60_000);
    apps = await startApps();
  });
  after(async () => apps?.stop());

  async function send(c: Pick<HttpCase, 'app' | 'method' | 'path' | 'headers' | 'body'>): Promise<Response> {
    const auth: Record<AppName, Record<string, string>> = {
      ingest: { authorization: `Bearer ${SERVICE_KEY}` },
      worker: { authorization: `Bearer ${SERVICE_KEY}` },
      gateway: { authorization: `Bearer ${apps.token}` },
      dashboard: { authorization: ADMIN },
    };
    return fetch(`${apps[c.app]}${c.path}`, {
      method: c.method,
      headers: { ...auth[c.app], ...c.headers },
      ...(c.body === undefined ? {} : { body: c.body }),
    });
  }

  function table(cases: HttpCase[]): void {
    for (const c of cases) {
      it(`answers ${c.what} (${c.app} ${c.method} ${c.path.slice(0, 60)}) with ${c.status}${c.code === undefined ? '' : ` ${c.code}`}`, async () => {
        const res = await send(c);
        const text = await res.text();
        expect(res.status, text).to.equal(c.status);
        if (c.code === undefined) return;
        const body = JSON.parse(text) as { error: { code: string; message: string; details?: { path: string }[] } };
        expect(body.error.code).to.equal(c.code);
        expect(body.error.message).to.be.a('string').and.not.equal('');
        if (c.detail !== undefined) expect(body.error.details?.map((d) => d.path)).to.include(c.detail);
      });
    }
  }

  describe("an error that is not Herald's own became a 500 (issue 17.1): a malformed %-escape in a path is a 400", () => {
    table([
      {
        what: 'a truncated UTF-8 escape in an account id',
        app: 'ingest',
        method: 'GET',
        path: '/v1/accounts/%E0%A4%A/devices',
        status: 400,
        code: 'invalid_request',
      },
      {
        what: 'a lone surrogate as UTF-8 bytes in an account id',
        app: 'ingest',
        method: 'GET',
        path: '/v1/accounts/victim-%ED%A0%80/devices',
        status: 400,
        code: 'invalid_request',
      },
      { what: 'a non-hex escape in an event id', app: 'ingest', method: 'GET', path: '/v1/events/%ZZ', status: 400, code: 'invalid_request' },
      { what: 'a bare % in a device id', app: 'ingest', method: 'DELETE', path: '/v1/accounts/acct-hostile/devices/%', status: 400, code: 'invalid_request' },
      { what: 'a non-hex escape in a trace lookup', app: 'dashboard', method: 'GET', path: '/admin/api/events/%ZZ', status: 400, code: 'invalid_request' },
      { what: 'a non-hex escape in a queue name', app: 'dashboard', method: 'GET', path: '/admin/queues/queue/%ZZ', status: 400, code: 'invalid_request' },
      {
        what: "a non-hex escape in the queue board API's query",
        app: 'dashboard',
        method: 'GET',
        path: '/admin/queues/api/queues?activeQueue=%ZZ',
        status: 400,
        code: 'invalid_request',
      },
      {
        what: 'a non-hex escape in a dead letter id',
        app: 'worker',
        method: 'POST',
        path: '/v1/dead-letters/high/0/%ZZ/redrive',
        status: 400,
        code: 'invalid_request',
      },
    ]);
  });

  describe('a corrupt or truncated compressed body became a 500 from zlib (issue 17.1): it is a 400', () => {
    const encodings: [string, Buffer][] = [
      ['gzip', gzipSync(event())],
      ['deflate', deflateSync(event())],
      ['br', brotliCompressSync(event())],
    ];
    const cases: HttpCase[] = [];
    for (const path of ['/v1/events', '/v1/events/batch', '/v1/devices']) {
      for (const [encoding, whole] of encodings) {
        cases.push(
          {
            what: `a ${encoding} body that is not ${encoding}`,
            app: 'ingest',
            method: 'POST',
            path,
            headers: { ...json, 'content-encoding': encoding },
            body: corrupt,
            status: 400,
            code: 'invalid_request',
          },
          {
            what: `a truncated ${encoding} body`,
            app: 'ingest',
            method: 'POST',
            path,
            headers: { ...json, 'content-encoding': encoding },
            body: whole.subarray(0, whole.length - 6),
            status: 400,
            code: 'invalid_request',
          },
        );
      }
    }
    cases.push({
      what: 'an unknown content-encoding',
      app: 'ingest',
      method: 'POST',
      path: '/v1/events',
      headers: { ...json, 'content-encoding': 'compress' },
      body: corrupt,
      status: 415,
      code: 'unsupported_media_type',
    });
    table(cases);

    it('still takes a well-formed gzip body', async () => {
      const res = await send({ app: 'ingest', method: 'POST', path: '/v1/events', headers: { ...json, 'content-encoding': 'gzip' }, body: gzipSync(event()) });
      expect(res.status).to.equal(202);
    });
  });

  describe('deeply nested JSON overflowed the stack and became a 500 (issue 17.2): it is a validation error', () => {
    table([
      {
        what: 'a payload nested 5,000 deep',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events',
        headers: json,
        body: nested(5000),
        status: 400,
        code: 'invalid_request',
        detail: 'payload',
      },
      {
        what: 'a payload nested 33 deep',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events',
        headers: json,
        body: nested(33),
        status: 400,
        code: 'invalid_request',
        detail: 'payload',
      },
      {
        what: 'a payload of arrays nested 5,000 deep',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events',
        headers: json,
        body: `{"type":"plan.changed","accountId":"acct-hostile","payload":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
        status: 400,
        code: 'invalid_request',
        detail: 'payload',
      },
      { what: 'a payload nested exactly 32 deep', app: 'ingest', method: 'POST', path: '/v1/events', headers: json, body: nested(32), status: 202 },
    ]);

    it('reports a deeply nested item of a batch on its own and accepts the others', async () => {
      const body = `{"events":[${nested(5000)},${event({ id: 'beside-the-deep-one' })}]}`;
      const res = await send({ app: 'ingest', method: 'POST', path: '/v1/events/batch', headers: json, body });
      expect(res.status).to.equal(202);
      const { results } = (await res.json()) as { results: Record<string, unknown>[] };
      expect(results[0]).to.have.nested.property('error.code', 'invalid_request');
      expect(results[0]).to.have.nested.property('error.details[0].path', 'events.0.payload');
      expect(results[1]).to.include({ id: 'beside-the-deep-one', status: 'accepted' });
    });
  });

  describe('a cursor past 2^64 − 1 became a 500 on pull (issue 17.3): it is refused with invalid_request', () => {
    const pull = (after: string): HttpCase => ({
      what: `after=${after}`,
      app: 'gateway',
      method: 'GET',
      path: `/v1/notifications?after=${after}`,
      status: 400,
      code: 'invalid_request',
      detail: 'after',
    });
    table([
      pull('18446744073709551616-0'),
      pull('0-18446744073709551616'),
      pull('99999999999999999999-0'),
      pull('18446744073709551615-18446744073709551615'),
      pull('1-2-3'),
      pull('%ZZ'),
      {
        what: 'the largest cursor that has something after it',
        app: 'gateway',
        method: 'GET',
        path: '/v1/notifications?after=18446744073709551615-18446744073709551614',
        status: 200,
      },
      {
        what: 'a dead letter id past 2^64 − 1',
        app: 'worker',
        method: 'POST',
        path: '/v1/dead-letters/high/0/18446744073709551616-0/redrive',
        status: 400,
        code: 'invalid_request',
        detail: 'id',
      },
    ]);
  });

  describe('unpaired UTF-16 surrogates let two accounts share keys (issue 17.4): ids must be well-formed Unicode', () => {
    const lone = 'victim-\ud800';
    table([
      {
        what: 'a device of account "victim-\\ud800"',
        app: 'ingest',
        method: 'POST',
        path: '/v1/devices',
        headers: json,
        body: JSON.stringify({ accountId: lone, platform: 'web' }),
        status: 400,
        code: 'invalid_request',
        detail: 'accountId',
      },
      {
        what: 'a device id with a lone low surrogate',
        app: 'ingest',
        method: 'POST',
        path: '/v1/devices',
        headers: json,
        body: JSON.stringify({ accountId: 'acct-hostile', platform: 'web', deviceId: 'tv-\udc00' }),
        status: 400,
        code: 'invalid_request',
        detail: 'deviceId',
      },
      {
        what: 'a device of profile "kid-\\udbff"',
        app: 'ingest',
        method: 'POST',
        path: '/v1/devices',
        headers: json,
        body: JSON.stringify({ accountId: 'acct-hostile', platform: 'web', profileId: 'kid-\udbff' }),
        status: 400,
        code: 'invalid_request',
        detail: 'profileId',
      },
      {
        what: 'an event for account "victim-\\udbff"',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events',
        headers: json,
        body: event({ accountId: 'victim-\udbff' }),
        status: 400,
        code: 'invalid_request',
        detail: 'accountId',
      },
      {
        what: 'an event for a profile with a lone surrogate',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events',
        headers: json,
        body: event({ profileId: '\ud800' }),
        status: 400,
        code: 'invalid_request',
        detail: 'profileId',
      },
      {
        what: 'an event targeting such a device',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events',
        headers: json,
        body: event({ targets: { deviceIds: ['web-\ud800'] } }),
        status: 400,
        code: 'invalid_request',
        detail: 'targets.deviceIds.0',
      },
      {
        what: 'an event excluding such a device',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events',
        headers: json,
        body: event({ targets: { excludeDeviceIds: ['web-\ud800'] } }),
        status: 400,
        code: 'invalid_request',
        detail: 'targets.excludeDeviceIds.0',
      },
      {
        what: 'an event targeting such a profile',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events',
        headers: json,
        body: event({ targets: { profileIds: ['\udfff'] } }),
        status: 400,
        code: 'invalid_request',
        detail: 'targets.profileIds.0',
      },
      {
        what: 'an event with such a collapse key',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events',
        headers: json,
        body: event({ collapseKey: 'title-\ud800' }),
        status: 400,
        code: 'invalid_request',
        detail: 'collapseKey',
      },
      {
        what: 'a batch item for account "victim-\\ud800"',
        app: 'ingest',
        method: 'POST',
        path: '/v1/events/batch',
        headers: json,
        body: JSON.stringify({ events: [{ type: 'plan.changed', accountId: lone }] }),
        status: 202,
      },
    ]);

    it('keeps ids with paired surrogates (emoji) apart and working', async () => {
      const res = await send({
        app: 'ingest',
        method: 'POST',
        path: '/v1/devices',
        headers: json,
        body: JSON.stringify({ accountId: 'emoji-\ud83d\ude00', platform: 'tv', deviceId: 'tv-\ud83d\udcfa' }),
      });
      expect(res.status).to.equal(201);
      const list = await send({ app: 'ingest', method: 'GET', path: `/v1/accounts/${encodeURIComponent('emoji-\ud83d\ude00')}/devices` });
      expect(((await list.json()) as { devices: { deviceId: string }[] }).devices.map((d) => d.deviceId)).to.deep.equal(['tv-\ud83d\udcfa']);
    });

    it('wrote no key holding U+FFFD, the character every lone surrogate became', async () => {
      const keys = await apps.redis.keys(`${apps.prefix}:*`);
      expect(keys.filter((key) => key.includes('\ufffd'))).to.deep.equal([]);
    });
  });

  describe('charset=utf-7 was accepted and decoded (issue 17.5): only UTF-8 JSON is taken', () => {
    const as = (contentType: string, status: number, code?: string): HttpCase => ({
      what: `Content-Type: ${contentType}`,
      app: 'ingest',
      method: 'POST',
      path: '/v1/events',
      headers: { 'content-type': contentType },
      body: event({ payload: { note: '1+AGQAZQBtAG8-1' } }),
      status,
      ...(code === undefined ? {} : { code }),
    });
    table([
      as('application/json; charset=utf-7', 415, 'unsupported_media_type'),
      as('application/json; charset=UTF-7', 415, 'unsupported_media_type'),
      as('application/json; charset=utf-16', 415, 'unsupported_media_type'),
      as('application/json; charset=iso-8859-1', 415, 'unsupported_media_type'),
      as('application/json; charset=utf-8; charset=utf-7', 415, 'unsupported_media_type'),
      as('application/json', 202),
      as('application/json; charset=utf-8', 202),
      as('application/json; charset="UTF-8"', 202),
    ]);
  });

  describe('cursor: null in the handshake and an empty after= on pull were refused (issue 17.7): they mean "no cursor"', () => {
    it('answers a pull with an empty after= as one without a cursor', async () => {
      const res = await send({ app: 'gateway', method: 'GET', path: '/v1/notifications?after=' });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ notifications: [], cursor: null, reset: false });
    });
  });

  describe('Socket.IO handshakes', () => {
    function connect(
      auth: Record<string, unknown>,
    ): Promise<{ connected: true; socket: Socket } | { connected: false; data: { code: string; details?: { path: string }[] } }> {
      const socket = io(apps.gateway, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
      return new Promise((resolve) => {
        socket.once('synced', () => resolve({ connected: true, socket }));
        socket.once('connect_error', (error: Error & { data?: { code: string } }) => {
          socket.close();
          resolve({ connected: false, data: error.data ?? { code: 'none' } });
        });
      });
    }

    const refused: [string, unknown][] = [
      ['a cursor past 2^64 − 1 (issue 17.3)', '18446744073709551616-0'],
      ['a sequence past 2^64 − 1', '1-18446744073709551616'],
      ['the largest stream id, which has nothing after it', '18446744073709551615-18446744073709551615'],
      ['a cursor that is not one', 'latest'],
      ['a cursor of the wrong type', 42],
    ];
    for (const [what, cursor] of refused) {
      it(`refuses ${what} with invalid_request at the handshake`, async () => {
        const result = await connect({ token: apps.token, cursor });
        expect(result.connected).to.equal(false);
        if (!result.connected) {
          expect(result.data.code).to.equal('invalid_request');
          expect(result.data.details?.map((d) => d.path)).to.include('cursor');
        }
      });
    }

    it('takes cursor: null as no cursor, and syncs (issue 17.7)', async () => {
      const result = await connect({ token: apps.token, cursor: null });
      expect(result.connected).to.equal(true);
      if (result.connected) result.socket.close();
    });
  });
});
