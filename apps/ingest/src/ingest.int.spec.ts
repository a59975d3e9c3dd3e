import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { loadConfig } from '@herald/config';
import { AcceptedEventSchema } from '@herald/contracts';
import type { AcceptedEvent } from '@herald/contracts';
import { DeviceRegistry, DeviceTokens } from '@herald/devices';
import { closeRedis, createKeys, createRedis, scanKeys } from '@herald/redis';
import { useTestRedis } from '@herald/testing';
import { createIngestApp, createIngestDeps } from './index.js';

const KEY = 'dev-service-key';

describe('ingest API', () => {
  const redis = useTestRedis();
  let server: Server;
  let base: string;

  async function start(env: Record<string, string> = {}): Promise<void> {
    // Load shedding reads this busy machine's CPU: its own spec (shedding.int.spec.ts) drives it.
    const config = loadConfig({ HERALD_KEY_PREFIX: redis.prefix, HERALD_LOG_LEVEL: 'silent', HERALD_SHEDDING: 'false', ...env }, 'ingest');
    server = createIngestApp(createIngestDeps(config, redis.client)).listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    return fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  /** Every event in every priority stream of this test's prefix. */
  async function streamed(): Promise<AcceptedEvent[]> {
    const keys = await scanKeys(redis.client, `${redis.prefix}:{p:*}:events`);
    const entries = await Promise.all(keys.map((key) => redis.client.xrange(key, '-', '+')));
    return entries.flat().flatMap(([, fields]) => AcceptedEventSchema.array().parse(JSON.parse(fields[3]!)));
  }

  describe('POST /v1/events', () => {
    beforeEach(() => start());

    it('accepts an event into its priority stream with everything the worker needs', async () => {
      const res = await request('POST', '/v1/events', {
        id: 'evt-1',
        type: 'viewing.progress',
        accountId: 'acct-1',
        profileId: 'p1',
        payload: { titleId: 't9', position: 42 },
        createdAt: '2026-11-21T10:00:00.000Z',
        targets: { platforms: ['tv', 'web'], excludeDeviceIds: ['d0'] },
      });
      expect(res.status).to.equal(202);
      expect(await res.json()).to.deep.equal({ id: 'evt-1', status: 'accepted', priority: 'medium' });
      const [event, ...rest] = await streamed();
      expect(rest).to.have.length(0);
      expect(event).to.deep.include({
        id: 'evt-1',
        type: 'viewing.progress',
        priority: 'medium',
        accountId: 'acct-1',
        profileId: 'p1',
        collapseKey: 'viewing.progress:t9',
        createdAt: Date.parse('2026-11-21T10:00:00.000Z'),
        targets: { platforms: ['tv', 'web'], excludeDeviceIds: ['d0'] },
        payload: { titleId: 't9', position: 42 },
      });
      expect(event!.acceptedAt).to.be.closeTo(Date.now(), 5000);
      const key = createKeys(redis.prefix).stream('medium', 0);
      expect(key).to.contain('{p:medium:0}');
    });

    it('generates an id when absent and defaults createdAt to now', async () => {
      const res = await request('POST', '/v1/events', { type: 'plan.changed', accountId: 'a', createdAt: 1_700_000_000_000 });
      const body = (await res.json()) as { id: string; priority: string };
      expect(body.id).to.match(/^[0-9a-f-]{36}$/);
      expect(body.priority).to.equal('high');
      const res2 = await request('POST', '/v1/events', { type: 'plan.changed', accountId: 'a' });
      const [first, second] = (await streamed()).sort((x, y) => x.createdAt - y.createdAt);
      expect(first!.createdAt).to.equal(1_700_000_000_000);
      expect(second!.createdAt).to.be.closeTo(Date.now(), 5000);
      expect(res2.status).to.equal(202);
    });

    it('answers "duplicate" for an id it already accepted and writes it once', async () => {
      const event = { id: 'same', type: 'plan.changed', accountId: 'a' };
      expect(await (await request('POST', '/v1/events', event)).json()).to.include({ status: 'accepted' });
      expect(await (await request('POST', '/v1/events', event)).json()).to.deep.equal({ id: 'same', status: 'duplicate', priority: 'high' });
      expect(await streamed()).to.have.length(1);
    });

    it('writes an id once when many requests with it race', async () => {
      const event = { id: 'raced', type: 'mylist.updated', accountId: 'a' };
      const bodies = await Promise.all(Array.from({ length: 25 }, async () => (await request('POST', '/v1/events', event)).json()));
      const statuses = bodies.map((b) => (b as { status: string }).status);
      expect(statuses.filter((s) => s === 'accepted')).to.have.length(1);
      expect(statuses.filter((s) => s === 'duplicate')).to.have.length(24);
      expect(await streamed()).to.have.length(1);
    });
  });

  describe('bad input gets a 4xx in the contract shape and writes nothing', () => {
    beforeEach(() => start());
    afterEach(async () => {
      expect(await streamed()).to.deep.equal([]);
      expect(await scanKeys(redis.client, `${redis.prefix}:*`)).to.deep.equal([]);
    });

    const valid = { type: 'plan.changed', accountId: 'a' };
    const cases: [string, unknown, string][] = [
      ['an id with illegal characters', { ...valid, id: 'has space/slash' }, 'id'],
      ['an id over 128 characters', { ...valid, id: 'x'.repeat(129) }, 'id'],
      ['an unparseable createdAt', { ...valid, createdAt: 'yesterday-ish' }, 'createdAt'],
      ['a negative createdAt', { ...valid, createdAt: -5 }, 'createdAt'],
      ['an unknown platform', { ...valid, targets: { platforms: ['fridge'] } }, 'targets.platforms.0'],
      ['a payload over 8 KiB', { ...valid, payload: { blob: 'x'.repeat(8 * 1024) } }, 'payload'],
      ['a payload that is not an object', { ...valid, payload: [1, 2] }, 'payload'],
      ['an unknown event type', { ...valid, type: 'no.such.type' }, 'type'],
      ['a missing accountId', { type: 'plan.changed' }, 'accountId'],
      ['an empty accountId', { ...valid, accountId: '' }, 'accountId'],
      ['a wrongly typed accountId', { ...valid, accountId: 42 }, 'accountId'],
      ['an unknown field', { ...valid, colour: 'red' }, ''],
      ['unknown targets fields', { ...valid, targets: { platform: 'tv' } }, 'targets'],
    ];
    for (const [what, body, path] of cases) {
      it(`refuses ${what} with 400 invalid_request naming "${path}"`, async () => {
        const res = await request('POST', '/v1/events', body);
        expect(res.status).to.equal(400);
        const { error } = (await res.json()) as { error: { code: string; details: { path: string }[] } };
        expect(error.code).to.equal('invalid_request');
        expect(error.details.map((d) => d.path)).to.include(path);
      });
    }

    it('refuses broken JSON with 400', async () => {
      const res = await request('POST', '/v1/events', '{"type": "plan.changed", ');
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('invalid_request');
    });

    for (const body of ['[1,2]', '"text"', 'null', '42']) {
      it(`refuses the non-object body ${body} with 400`, async () => {
        const res = await request('POST', '/v1/events', body);
        expect(res.status).to.equal(400);
        expect(((await res.json()) as { error: { message: string } }).error.message).to.match(/JSON object/);
      });
    }

    it('refuses a body that is not JSON with 415', async () => {
      const res = await request('POST', '/v1/events', 'type=plan.changed', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status).to.equal(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('unsupported_media_type');
    });

    it('refuses an oversized body with 413', async () => {
      const res = await request('POST', '/v1/events', { ...valid, payload: { blob: 'x'.repeat(100_000) } });
      expect(res.status).to.equal(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('payload_too_large');
    });

    it('refuses a request without a service key, or with a wrong one, with 401', async () => {
      for (const authorization of ['', 'Bearer wrong-key', 'Basic ZGV2OmRldg==', `Bearer ${KEY}x`]) {
        const res = await request('POST', '/v1/events', valid, { authorization });
        expect(res.status, authorization).to.equal(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('unauthorized');
      }
    });

    it('refuses batches of 0 and of 1001 events, and a batch without an events array', async () => {
      for (const body of [{ events: [] }, { events: Array.from({ length: 1001 }, () => valid) }, { events: 'x' }, {}, { events: [valid], more: 1 }]) {
        const res = await request('POST', '/v1/events/batch', body);
        expect(res.status).to.equal(400);
        const { error } = (await res.json()) as { error: { code: string; details: { path: string }[] } };
        expect(error.code).to.equal('invalid_request');
        expect(error.details.length).to.be.above(0);
      }
    });

    it('refuses a batch body that is broken JSON', async () => {
      const res = await request('POST', '/v1/events/batch', '{"events": [');
      expect(res.status).to.equal(400);
    });
  });

  describe('POST /v1/events/batch', () => {
    beforeEach(() => start());

    it('accepts the valid items and reports each invalid one by index', async () => {
      const res = await request('POST', '/v1/events/batch', {
        events: [
          { id: 'b1', type: 'plan.changed', accountId: 'a' },
          { id: 'bad id!', type: 'plan.changed', accountId: 'a' },
          { id: 'b2', type: 'recommendations.updated', accountId: 'b' },
          { id: 'b1', type: 'plan.changed', accountId: 'a' },
          { id: 'b3', type: 'nope', accountId: 'a' },
        ],
      });
      expect(res.status).to.equal(202);
      const { results } = (await res.json()) as { results: Record<string, unknown>[] };
      expect(results[0]).to.deep.equal({ index: 0, id: 'b1', status: 'accepted', priority: 'high' });
      expect(results[1]).to.have.nested.property('error.code', 'invalid_request');
      expect(results[1]).to.have.nested.property('error.details[0].path', 'events.1.id');
      expect(results[2]).to.deep.equal({ index: 2, id: 'b2', status: 'accepted', priority: 'low' });
      expect(results[3]).to.deep.equal({ index: 3, id: 'b1', status: 'duplicate', priority: 'high' });
      expect(results[4]).to.have.nested.property('error.details[0].path', 'events.4.type');
      expect((await streamed()).map((e) => e.id).sort()).to.deep.equal(['b1', 'b2']);
    });

    it('takes 1000 events in one request', async () => {
      const events = Array.from({ length: 1000 }, (_, i) => ({ id: `n${i}`, type: 'mylist.updated', accountId: `acct-${i % 37}` }));
      const res = await request('POST', '/v1/events/batch', { events });
      expect(res.status).to.equal(202);
      const { results } = (await res.json()) as { results: { status: string }[] };
      expect(results.every((r) => r.status === 'accepted')).to.equal(true);
      expect(await streamed()).to.have.length(1000);
    });
  });

  describe('backpressure', () => {
    beforeEach(() => start({ HERALD_BACKLOG_LIMIT_LOW: '2', HERALD_PARTITIONS_LOW: '1' }));

    // Account b: its low and high partitions are on different masters of a 3-master Cluster.
    it('answers 429 with Retry-After for the priority over its backlog, and only for it', async () => {
      for (const id of ['l1', 'l2']) {
        expect((await request('POST', '/v1/events', { id, type: 'recommendations.updated', accountId: 'b' })).status).to.equal(202);
      }
      const refused = await request('POST', '/v1/events', { id: 'l3', type: 'recommendations.updated', accountId: 'b' });
      expect(refused.status).to.equal(429);
      expect(refused.headers.get('retry-after')).to.equal('1');
      expect(((await refused.json()) as { error: { code: string; message: string } }).error).to.deep.include({ code: 'backlog_exceeded' });
      expect((await request('POST', '/v1/events', { id: 'h1', type: 'plan.changed', accountId: 'b' })).status).to.equal(202);

      const batch = await request('POST', '/v1/events/batch', {
        events: [
          { id: 'l4', type: 'recommendations.updated', accountId: 'b' },
          { id: 'h2', type: 'plan.changed', accountId: 'b' },
        ],
      });
      expect(batch.status).to.equal(202);
      expect(batch.headers.get('retry-after')).to.equal('1');
      const { results } = (await batch.json()) as { results: Record<string, unknown>[] };
      expect(results[0]).to.have.nested.property('error.code', 'backlog_exceeded');
      expect(results[1]).to.include({ status: 'accepted' });

      const allRefused = await request('POST', '/v1/events/batch', { events: [{ id: 'l5', type: 'recommendations.updated', accountId: 'b' }] });
      expect(allRefused.status).to.equal(429);
      expect((await streamed()).map((e) => e.id).sort()).to.deep.equal(['h1', 'h2', 'l1', 'l2']);
    });
  });

  describe('replica acknowledgements (HERALD_REDIS_WAIT_REPLICAS)', () => {
    it('answers 503 when no replica confirms an event in time, and the retry with the same id is a duplicate', async () => {
      // The test Redis has no replicas: WAIT 1 can only time out.
      await start({ HERALD_REDIS_WAIT_REPLICAS: '1', HERALD_REDIS_WAIT_TIMEOUT_MS: '50' });
      const event = { id: 'unconfirmed', type: 'plan.changed', accountId: 'acct-1' };
      const refused = await request('POST', '/v1/events', event);
      expect(refused.status).to.equal(503);
      expect(refused.headers.get('retry-after')).to.equal('1');
      expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal('unavailable');
      const batch = await request('POST', '/v1/events/batch', { events: [{ ...event, id: 'unconfirmed-2' }] });
      expect(batch.status).to.equal(503);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      // Written, but not promised: a retry (here with no replica required) finds it.
      await start();
      expect(await (await request('POST', '/v1/events', event)).json()).to.deep.include({ status: 'duplicate' });
    });
  });

  describe('catalog, health and metrics', () => {
    beforeEach(() => start());

    it('lists the event catalog', async () => {
      const res = await request('GET', '/v1/event-types');
      const { eventTypes } = (await res.json()) as { eventTypes: { type: string; priority: string; platforms: string[] }[] };
      expect(eventTypes.map((t) => t.type)).to.include.members([
        'profile.maturity.changed',
        'plan.changed',
        'viewing.progress',
        'mylist.updated',
        'recommendations.updated',
      ]);
      expect(eventTypes.find((t) => t.type === 'plan.changed')?.platforms).to.deep.equal(['web', 'tv', 'ios', 'android']);
    });

    it('serves healthz, readyz and metrics without a key', async () => {
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      expect(await (await fetch(`${base}/readyz`)).json()).to.deep.equal({ status: 'ready' });
      await request('POST', '/v1/events', { type: 'plan.changed', accountId: 'a' });
      await request('POST', '/v1/events', { type: 'plan.changed' });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).to.match(/herald_events_accepted_total\{priority="high",app="ingest"\} 1/);
      expect(metrics).to.match(/herald_events_rejected_total\{reason="invalid_request",app="ingest"\} 1/);
    });

    it('answers a known path with a method it does not take with 405 and Allow (regression: GET /v1/events was a 404)', async () => {
      const cases: [string, string, string][] = [
        ['GET', '/v1/events', 'POST'],
        ['PUT', '/v1/events/batch', 'POST'],
        ['POST', '/v1/events/some-id', 'GET, HEAD'],
        ['GET', '/v1/devices', 'POST'],
        ['POST', '/v1/accounts/acct/devices', 'GET, HEAD'],
        ['GET', '/v1/accounts/acct/devices/tv-1', 'DELETE'],
        ['DELETE', '/v1/event-types', 'GET, HEAD'],
      ];
      for (const [method, path, allow] of cases) {
        const res = await request(method, path);
        expect(res.status, `${method} ${path}`).to.equal(405);
        expect(res.headers.get('allow'), `${method} ${path}`).to.equal(allow);
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('method_not_allowed');
      }
    });

    it('answers an unknown route with a 404 in the error shape', async () => {
      const res = await request('GET', '/v1/nothing-here');
      expect(res.status).to.equal(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('not_found');
    });
  });

  describe('readiness without Redis', () => {
    it('answers 503 on /readyz when Redis is unreachable', async () => {
      const config = loadConfig({ HERALD_LOG_LEVEL: 'silent', HERALD_SHEDDING: 'false' }, 'ingest');
      const dead = createRedis({ url: 'redis://127.0.0.1:1', name: 'dead' });
      dead.on('error', () => undefined);
      server = createIngestApp(createIngestDeps(config, dead)).listen(0);
      await new Promise((resolve) => server.once('listening', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${base}/readyz`);
      expect(res.status).to.equal(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('unavailable');
      dead.disconnect();
      await closeRedis(dead);
    });
  });

  describe('device registry', () => {
    beforeEach(() => start());

    it('registers, lists and deletes a device; deleting revokes its token', async () => {
      const created = await request('POST', '/v1/devices', { accountId: 'acct', platform: 'tv', profileId: 'p1', deviceId: 'tv-1' });
      expect(created.status).to.equal(201);
      const { deviceId, token } = (await created.json()) as { deviceId: string; token: string };
      expect(deviceId).to.equal('tv-1');
      expect(token.split('.')).to.have.length(3);

      const list = (await (await request('GET', '/v1/accounts/acct/devices')).json()) as { devices: Record<string, unknown>[] };
      expect(list.devices).to.have.length(1);
      expect(list.devices[0]).to.include({ deviceId: 'tv-1', platform: 'tv', profileId: 'p1', online: false });
      expect(Date.parse(list.devices[0]!['lastSeenAt'] as string)).to.be.closeTo(Date.now(), 5000);

      const config = loadConfig({ HERALD_KEY_PREFIX: redis.prefix }, 'ingest');
      const registry = new DeviceRegistry({
        redis: redis.client,
        keys: createKeys(redis.prefix),
        tokens: new DeviceTokens({ secret: config.deviceSecret, ttlSeconds: 60 }),
      });
      expect(await registry.authenticate(token)).to.include({ accountId: 'acct', deviceId: 'tv-1', platform: 'tv' });

      expect((await request('DELETE', '/v1/accounts/acct/devices/tv-1')).status).to.equal(204);
      expect((await request('DELETE', '/v1/accounts/acct/devices/tv-1')).status).to.equal(404);
      expect(await (await request('GET', '/v1/accounts/acct/devices')).json()).to.deep.equal({ devices: [] });
      try {
        await registry.authenticate(token);
        expect.fail('expected the token to be revoked');
      } catch (error) {
        expect(error).to.have.property('code', 'unauthorized');
      }
    });

    it('generates a device id when absent', async () => {
      const res = await request('POST', '/v1/devices', { accountId: 'acct', platform: 'android', pushToken: 'fcm-token' });
      expect(((await res.json()) as { deviceId: string }).deviceId).to.match(/^[0-9a-f-]{36}$/);
    });

    it('refuses a bad registration with 400 and stores nothing', async () => {
      for (const body of [{ accountId: 'acct', platform: 'fridge' }, { platform: 'tv' }, { accountId: 'acct', platform: 'tv', extra: 1 }]) {
        const res = await request('POST', '/v1/devices', body);
        expect(res.status).to.equal(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('invalid_request');
      }
      expect((await request('POST', '/v1/devices', { accountId: 'acct', platform: 'tv' }, { authorization: '' })).status).to.equal(401);
      expect(await scanKeys(redis.client, `${redis.prefix}:*`)).to.deep.equal([]);
    });

    it('refuses an account id over 128 characters in the path', async () => {
      const res = await request('GET', `/v1/accounts/${'a'.repeat(129)}/devices`);
      expect(res.status).to.equal(400);
    });
  });
});
