import { expect } from 'chai';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { io } from 'socket.io-client';
import { z } from 'zod';
import { loadConfig } from '@herald/config';
import { ERROR_CODES, NotificationsQuerySchema } from '@herald/contracts';
import type { ErrorCode, Notification } from '@herald/contracts';
import { PullQuerySchema } from '@herald/gateway';
import { createIngestApp, createIngestDeps } from '@herald/ingest';
import { gatewayOpenApiDocument, ingestOpenApiDocument } from '@herald/openapi';
import type { OpenApiDocument } from '@herald/openapi';
import { ConformanceError, ResponseConformance, validateOpenApiDocument } from '@herald/openapi/conformance';
import { createRedis } from '@herald/redis';
import { waitFor } from '@herald/testing';
import { useStack } from './stack.fixture.js';

/*
 * The OpenAPI documents against the real apps: each is fetched from the app and validated as
 * OpenAPI 3.1, then every request below goes through `api()`, which checks the real answer
 * against the document (status, media type, body schema with undocumented fields refused,
 * documented headers) and the accepted request against the documented parameters and body. The
 * last test checks that every documented path and response was seen, so a route or status added
 * to a document without a request here fails.
 */

const conformance = {
  ingest: new ResponseConformance(ingestOpenApiDocument()),
  gateway: new ResponseConformance(gatewayOpenApiDocument()),
};

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

interface CallOptions {
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
  /** False: do not hold an accepted request to the documented request schema (a batch with invalid items on purpose). */
  checkRequest?: boolean;
}

/** An HTTP client for one app whose every answer is checked against that app's document. */
function api(checker: ResponseConformance, baseUrl: () => string, defaultHeaders: () => Record<string, string> = () => ({})) {
  const call = async (method: string, path: string, options: CallOptions = {}): Promise<Answer> => {
    const body = options.body === undefined || typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { ...defaultHeaders(), ...options.headers },
      ...(body === undefined ? {} : { body: body as string }),
    });
    const text = await response.text();
    const { body: parsed } = checker.check({
      method,
      path: new URL(path, 'http://x').pathname,
      status: response.status,
      headers: response.headers,
      body: text,
    });
    if (response.ok && options.checkRequest !== false) {
      checker.checkRequest({ method, url: path, ...(options.body === undefined || typeof options.body === 'string' ? {} : { body: options.body }) });
    }
    expectCodeMatchesStatus(response.status, parsed);
    return { status: response.status, headers: response.headers, body: parsed };
  };
  return {
    get: (path: string, options?: CallOptions) => call('GET', path, options),
    post: (path: string, body: unknown, options: CallOptions = {}) => call('POST', path, { ...options, body }),
    delete: (path: string, options?: CallOptions) => call('DELETE', path, options),
  };
}

/** An error body's code is the one `ERROR_CODES` maps to the status it came with. */
function expectCodeMatchesStatus(status: number, body: unknown): void {
  const code = (body as { error?: { code?: string } } | undefined)?.error?.code;
  if (code !== undefined) expect(ERROR_CODES[code as ErrorCode], `${code} for ${status}`).to.equal(status);
}

/** Checks a served document: OpenAPI 3.1.0, valid, and exactly what `@herald/openapi` generates. */
async function expectServedDocument(client: ReturnType<typeof api>, generated: OpenApiDocument): Promise<OpenApiDocument> {
  const { status, headers, body } = await client.get('/openapi.json', { headers: { authorization: '' } });
  expect(status).to.equal(200);
  expect(headers.get('access-control-allow-origin')).to.equal('*');
  const document = body as OpenApiDocument;
  expect(document.openapi).to.equal('3.1.0');
  expect(validateOpenApiDocument(document)).to.deep.equal([]);
  expect(document).to.deep.equal(JSON.parse(JSON.stringify(generated)));
  return document;
}

const longId = 'x'.repeat(129);
const tests = { run: 0, passed: 0 };

describe('OpenAPI documents against the running apps', function () {
  this.timeout(30_000);
  afterEach(function () {
    tests.run++;
    if (this.currentTest?.state === 'passed') tests.passed++;
  });

  describe('ingest', () => {
    const stack = useStack();
    const ingest = api(
      conformance.ingest,
      () => stack.ingestUrl,
      () => stack.serviceHeaders,
    );

    it('serves its document at GET /openapi.json without a key: valid OpenAPI 3.1.0, as generated', async () => {
      await expectServedDocument(ingest, ingestOpenApiDocument());
    });

    it('answers health, readiness and metrics as documented', async () => {
      expect((await ingest.get('/healthz')).status).to.equal(200);
      expect((await ingest.get('/readyz')).status).to.equal(200);
      expect((await ingest.get('/metrics')).status).to.equal(200);
    });

    it('answers POST /v1/events as documented, accepted, duplicate and refused', async () => {
      const event = { id: 'openapi-1', type: 'plan.changed', accountId: 'acct-oa', payload: { plan: 'premium' }, createdAt: new Date().toISOString() };
      expect((await ingest.post('/v1/events', event)).body).to.include({ status: 'accepted', priority: 'high' });
      expect((await ingest.post('/v1/events', event)).body).to.include({ status: 'duplicate' });
      expect((await ingest.post('/v1/events', { type: 'viewing.progress', accountId: 'acct-oa', createdAt: Date.now() })).status).to.equal(202);

      const invalid = await ingest.post('/v1/events', { type: 'no.such.type', accountId: '', targets: { platforms: ['fridge'] } });
      expect(invalid.status).to.equal(400);
      expect((invalid.body as { error: { details: unknown[] } }).error.details).to.have.length.greaterThan(1);
      expect((await ingest.post('/v1/events', '{"type":')).status).to.equal(400);
      expect((await ingest.post('/v1/events', '[1]')).status).to.equal(400);
      expect((await ingest.post('/v1/events', event, { headers: { authorization: '' } })).status).to.equal(401);
      expect((await ingest.post('/v1/events', event, { headers: { authorization: 'Bearer wrong-key-123' } })).status).to.equal(401);
      expect((await ingest.post('/v1/events', { ...event, payload: { blob: 'x'.repeat(70_000) } })).status).to.equal(413);
      expect((await ingest.post('/v1/events', 'type=plan.changed', { headers: { 'content-type': 'text/plain' } })).status).to.equal(415);
    });

    it('answers POST /v1/events/batch as documented, items accepted and refused one by one', async () => {
      // The document asks for valid events; an invalid one is reported in its result, not refused.
      const events = [
        { type: 'mylist.updated', accountId: 'acct-oa', payload: { titleId: 't1' } },
        { type: 'mylist.updated', accountId: 'acct-oa', collapseKey: '' },
      ];
      const batch = await ingest.post('/v1/events/batch', { events }, { checkRequest: false });
      expect(batch.status).to.equal(202);
      const [accepted, refused] = (batch.body as { results: [object, object] }).results;
      expect(accepted).to.include({ index: 0, status: 'accepted' });
      expect(refused).to.have.nested.property('error.code', 'invalid_request');

      expect((await ingest.post('/v1/events/batch', { events: [] })).status).to.equal(400);
      expect((await ingest.post('/v1/events/batch', { events: [{}], extra: 1 })).status).to.equal(400);
      expect((await ingest.post('/v1/events/batch', { events: [{}] }, { headers: { authorization: '' } })).status).to.equal(401);
      expect((await ingest.post('/v1/events/batch', '{}', { headers: { 'content-type': 'application/xml' } })).status).to.equal(415);
      expect((await ingest.post('/v1/events/batch', `{"events":["${'x'.repeat(10 * 1024 * 1024)}"]}`)).status).to.equal(413);
    });

    it("answers GET /v1/events/{id} with the event's trace as documented, once the worker routed it", async () => {
      await stack.registerDevice({ accountId: 'acct-trace', platform: 'tv', deviceId: 'tv-1' });
      const { id } = await stack.send({ type: 'plan.changed', accountId: 'acct-trace' });
      const trace = await waitFor(
        'the event to be routed',
        async () => {
          const answer = await ingest.get(`/v1/events/${id}`);
          return answer.status === 200 && (answer.body as { status: string }).status === 'routed' && answer.body;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(trace).to.include({ id, priority: 'high' });
    });

    it('answers GET /v1/events/{id} refusals as documented', async () => {
      expect((await ingest.get('/v1/events/never-sent')).status).to.equal(404);
      expect((await ingest.get(`/v1/events/${longId}`)).status).to.equal(400);
      expect((await ingest.get('/v1/events/never-sent', { headers: { authorization: '' } })).status).to.equal(401);
    });

    it('answers GET /v1/event-types as documented', async () => {
      const { status, body } = await ingest.get('/v1/event-types');
      expect(status).to.equal(200);
      expect((body as { eventTypes: { type: string }[] }).eventTypes.map((t) => t.type)).to.include('viewing.progress');
      expect((await ingest.get('/v1/event-types', { headers: { authorization: '' } })).status).to.equal(401);
    });

    it('answers the device registry as documented: register, list, delete and their refusals', async () => {
      const registered = await ingest.post('/v1/devices', { accountId: 'acct-dev', platform: 'tv', deviceId: 'tv-1', profileId: 'p1' });
      expect(registered.status).to.equal(201);
      await ingest.post('/v1/devices', { accountId: 'acct-dev', platform: 'ios', pushToken: 'apns-token' });
      expect((await ingest.post('/v1/devices', { accountId: 'acct-dev', platform: 'fridge' })).status).to.equal(400);
      expect((await ingest.post('/v1/devices', { accountId: 'acct-dev', platform: 'tv' }, { headers: { authorization: '' } })).status).to.equal(401);
      expect((await ingest.post('/v1/devices', { accountId: 'acct-dev', platform: 'tv', pushToken: 'x'.repeat(17_000) })).status).to.equal(413);
      expect((await ingest.post('/v1/devices', 'accountId=a', { headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).to.equal(415);

      const list = await ingest.get('/v1/accounts/acct-dev/devices');
      expect((list.body as { devices: unknown[] }).devices).to.have.length(2);
      expect((await ingest.get(`/v1/accounts/${longId}/devices`)).status).to.equal(400);
      expect((await ingest.get('/v1/accounts/acct-dev/devices', { headers: { authorization: '' } })).status).to.equal(401);

      expect((await ingest.delete('/v1/accounts/acct-dev/devices/tv-1')).status).to.equal(204);
      expect((await ingest.delete('/v1/accounts/acct-dev/devices/tv-1')).status).to.equal(404);
      expect((await ingest.delete(`/v1/accounts/acct-dev/devices/${longId}`)).status).to.equal(400);
      expect((await ingest.delete('/v1/accounts/acct-dev/devices/tv-1', { headers: { authorization: '' } })).status).to.equal(401);
    });

    it('answers 409 as documented for the 101st device of an account', async () => {
      for (let start = 0; start < 100; start += 20) {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => stack.registerDevice({ accountId: 'acct-full', platform: 'web', deviceId: `web-${start + i}` })),
        );
      }
      expect((await ingest.post('/v1/devices', { accountId: 'acct-full', platform: 'web' })).status).to.equal(409);
    });

    it('fails the check of a real answer whose operation or status is undocumented', async () => {
      // An operation the document does not have: the app answers 404, the check refuses it.
      const response = await fetch(`${stack.ingestUrl}/v1/events`, { method: 'PUT', headers: stack.serviceHeaders, body: '{}' });
      const put = { method: 'PUT', path: '/v1/events', status: response.status, headers: response.headers, body: await response.text() };
      expect(() => conformance.ingest.check(put)).to.throw(ConformanceError, /no such operation/);

      // A status the document does not list for the operation: a document without 401 on POST /v1/events.
      const without401 = structuredClone(ingestOpenApiDocument()) as OpenApiDocument;
      delete without401.paths['/v1/events']!.post!.responses['401'];
      const unauthorized = await fetch(`${stack.ingestUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const observed = { method: 'POST', path: '/v1/events', status: unauthorized.status, headers: unauthorized.headers, body: await unauthorized.text() };
      expect(() => new ResponseConformance(without401).check(observed)).to.throw(ConformanceError, /status 401 is not documented/);
    });
  });

  describe('ingest without Redis', () => {
    it('answers GET /readyz with 503 as documented', async () => {
      const port = await closedPort();
      const config = loadConfig(
        {
          NODE_ENV: 'test',
          HERALD_LOG_LEVEL: 'silent',
          HERALD_SERVICE_KEYS: 'oa:openapi-test-key',
          HERALD_DEVICE_SECRET: 'openapi-test-device-secret-0123456789abcdef',
        },
        'launcher',
      );
      const redis = createRedis({ url: `redis://127.0.0.1:${port}`, name: 'openapi-unreachable' });
      redis.on('error', () => {}); // refused connections are the point here
      const server = createIngestApp(createIngestDeps(config, redis)).listen(0, '127.0.0.1');
      try {
        await new Promise((resolve) => server.once('listening', resolve));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        expect((await api(conformance.ingest, () => url).get('/readyz')).status).to.equal(503);
      } finally {
        server.close();
        server.closeAllConnections();
        redis.disconnect();
      }
    });
  });

  describe('ingest over the backlog limit of a priority', () => {
    // Low priority is never routed here, so one event fills its partition.
    const stack = useStack({ HERALD_BACKLOG_LIMIT_LOW: '1', HERALD_WORKER_PRIORITIES: 'high' });
    const ingest = api(
      conformance.ingest,
      () => stack.ingestUrl,
      () => stack.serviceHeaders,
    );
    const low = (id: string) => ({ id, type: 'recommendations.updated', accountId: 'acct-backlog' });

    it('answers 429 with Retry-After as documented, for single events and whole batches', async () => {
      expect((await ingest.post('/v1/events', low('low-1'))).status).to.equal(202);
      const refused = await ingest.post('/v1/events', low('low-2'));
      expect(refused.status).to.equal(429);
      expect(Number(refused.headers.get('retry-after'))).to.be.at.least(1);

      const batch = await ingest.post('/v1/events/batch', { events: [low('low-3'), low('low-4')] });
      expect(batch.status).to.equal(429);
      expect(batch.headers.get('retry-after')).to.not.equal(null);

      const mixed = await ingest.post('/v1/events/batch', { events: [{ type: 'plan.changed', accountId: 'acct-backlog' }, low('low-5')] });
      expect(mixed.status).to.equal(202);
      expect(mixed.headers.get('retry-after')).to.not.equal(null);
    });
  });

  describe('gateway', () => {
    const stack = useStack({ HERALD_ALLOWED_ORIGINS: 'https://app.example' });
    let token = '';
    const gateway = api(
      conformance.gateway,
      () => stack.gatewayUrl,
      () => ({ authorization: `Bearer ${token}` }),
    );

    it('serves its document at GET /openapi.json without a token: valid OpenAPI 3.1.0, as generated, the socket protocol described', async () => {
      const document = await expectServedDocument(gateway, gatewayOpenApiDocument());
      for (const event of ['notification', 'synced', 'reconnect_requested', 'error', 'ack']) expect(document.info.description).to.contain(`\`${event}\``);
      expect(Object.keys(document.components.schemas)).to.include.members(['Notification', 'Synced', 'Ack', 'HandshakeAuth']);
    });

    it('answers health, readiness and metrics as documented', async () => {
      expect((await gateway.get('/healthz')).status).to.equal(200);
      expect((await gateway.get('/readyz')).status).to.equal(200);
      expect((await gateway.get('/metrics')).status).to.equal(200);
    });

    it('answers GET /v1/notifications as documented: pages, a long-poll and every refusal', async () => {
      ({ token } = await stack.registerDevice({ accountId: 'acct-pull', platform: 'ios', deviceId: 'phone-1' }));
      const empty = await gateway.get('/v1/notifications');
      expect(empty.body).to.deep.equal({ notifications: [], cursor: null, reset: false });

      const { id } = await stack.send({ type: 'viewing.progress', accountId: 'acct-pull', profileId: 'p1', payload: { titleId: 't1', position: 42 } });
      const polled = await gateway.get('/v1/notifications?waitMs=10000&limit=10');
      const page = polled.body as { notifications: Notification[]; cursor: string };
      expect(page.notifications.map((n) => n.id)).to.deep.equal([id]);
      expect((await gateway.get(`/v1/notifications?after=${page.cursor}&limit=1`)).body).to.include({ cursor: page.cursor });

      for (const query of ['limit=0', 'limit=501', 'waitMs=30001', 'after=not-a-cursor', 'other=1']) {
        expect((await gateway.get(`/v1/notifications?${query}`)).status, query).to.equal(400);
      }
      expect((await gateway.get('/v1/notifications', { headers: { origin: 'https://elsewhere.example' } })).status).to.equal(403);
      expect((await gateway.get('/v1/notifications', { headers: { origin: 'https://app.example' } })).status).to.equal(200);
      expect((await gateway.get('/v1/notifications', { headers: { authorization: '' } })).status).to.equal(401);
      expect((await gateway.get('/v1/notifications', { headers: { authorization: 'Bearer not.a.jwt' } })).status).to.equal(401);
      await fetch(`${stack.ingestUrl}/v1/accounts/acct-pull/devices/phone-1`, { method: 'DELETE', headers: stack.serviceHeaders });
      expect((await gateway.get('/v1/notifications')).status).to.equal(401);
    });

    it('pushes Socket.IO payloads shaped as the components the document describes them with', async () => {
      const device = await stack.registerDevice({ accountId: 'acct-socket', platform: 'web', deviceId: 'web-1' });
      conformance.gateway.checkSchema('HandshakeAuth', { token: device.token });
      const socket = io(stack.gatewayUrl, { auth: { token: device.token }, transports: ['websocket'] });
      try {
        const received = new Promise<Notification>((resolve) => socket.on('notification', resolve));
        conformance.gateway.checkSchema('Synced', await new Promise((resolve) => socket.once('synced', resolve)));
        await stack.send({ type: 'mylist.updated', accountId: 'acct-socket', collapseKey: 'list' });
        const notification = await received;
        conformance.gateway.checkSchema('Notification', notification);
        conformance.gateway.checkSchema('Ack', { cursor: notification.cursor });
      } finally {
        socket.disconnect();
      }
    });

    it('documents the pull query exactly as the gateway parses it', () => {
      const asDocumented = z.toJSONSchema(NotificationsQuerySchema, { io: 'input' });
      expect(z.toJSONSchema(PullQuerySchema, { io: 'input' })).to.deep.equal(asDocumented);
    });
  });

  describe('coverage', () => {
    /** Documented responses no test can produce on demand, and why. Each must still be documented and unseen. */
    const unproducible: { app: keyof typeof conformance; pattern: RegExp; why: string }[] = [
      { app: 'ingest', pattern: / 500$/, why: '`internal` needs a fault mid-request (Redis dying)' },
      { app: 'gateway', pattern: / 500$/, why: '`internal` needs a fault mid-request (Redis dying)' },
      { app: 'gateway', pattern: /^GET \/readyz 503$/, why: 'the node must be shutting down or lose Redis; the shared response is produced on ingest' },
    ];

    it('saw every documented path, and every documented response but the unproducible ones', function () {
      // Meaningful only after every other test of this file ran and passed (not under --grep).
      const others = countTests(this.test!.parent!.parent!) - 1;
      if (tests.run < others || tests.passed < others) this.skip();
      for (const [app, checker] of Object.entries(conformance) as [keyof typeof conformance, ResponseConformance][]) {
        expect(checker.unexercisedPaths(), `${app}: paths no test requested`).to.deep.equal([]);
        const rules = unproducible.filter((rule) => rule.app === app);
        const unseen = checker.unexercised();
        expect(
          unseen.filter((key) => !rules.some((rule) => rule.pattern.test(key))),
          `${app}: documented responses no test produced`,
        ).to.deep.equal([]);
        for (const rule of rules)
          expect(
            unseen.some((key) => rule.pattern.test(key)),
            `${app} ${rule.pattern} is listed as unproducible: ${rule.why}`,
          ).to.equal(true);
      }
    });
  });
});

function countTests(suite: Mocha.Suite): number {
  return suite.tests.length + suite.suites.reduce((sum, child) => sum + countTests(child), 0);
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
