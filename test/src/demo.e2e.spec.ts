import { expect } from 'chai';
import { io } from 'socket.io-client';
import type { Notification } from '@herald/contracts';
import { useDemo } from './demo.fixture.js';
import type { Demo } from './demo.fixture.js';
import { useStack } from './stack.fixture.js';

const json = { 'content-type': 'application/json' };

async function call(demo: Demo, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(`${demo.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: json, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

describe('the demo app: its page and HTTP API (development only)', function () {
  this.timeout(20_000);

  describe('with Herald running', () => {
    const stack = useStack();
    const demo = useDemo(stack);

    it('serves the page naming the gateway to connect to, and refuses a bad platform with a 400 naming it', async () => {
      const page = await call(demo, 'GET', '/?account=acct-demo&platform=tv');
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/^text\/html/);
      expect(page.body).to.be.a('string').that.contains('src="/demo.js"').and.contains(`data-gateway-url="${stack.gatewayUrl}"`);

      const bad = await call(demo, 'GET', '/?platform=ios');
      expect(bad.status).to.equal(400);
      expect(bad.body).to.have.nested.property('error.code', 'invalid_request');
      expect(bad.body).to.have.nested.property('error.details[0].path', 'platform');
    });

    it('serves the browser script bundled from the sources, as JavaScript', async function () {
      this.timeout(60_000);
      const script = await call(demo, 'GET', '/demo.js');
      expect(script.status, String(script.body).slice(0, 500)).to.equal(200);
      expect(script.headers.get('content-type')).to.match(/^text\/javascript/);
      expect(script.body).to.be.a('string').that.contains('data-notification-id');
    });

    it('registers a demo device with ingest, whose token connects to the gateway', async () => {
      const created = await call(demo, 'POST', '/api/devices', { accountId: 'acct-demo', platform: 'tv', deviceId: 'demo-tv' });
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ accountId: 'acct-demo', deviceId: 'demo-tv', platform: 'tv' });
      const { token } = created.body as { token: string };
      const listed = await fetch(`${stack.ingestUrl}/v1/accounts/acct-demo/devices`, { headers: stack.serviceHeaders });
      expect(((await listed.json()) as { devices: { deviceId: string }[] }).devices.map((device) => device.deviceId)).to.deep.equal(['demo-tv']);

      const socket = io(stack.gatewayUrl, { auth: { token }, transports: ['websocket'], reconnection: false });
      try {
        await new Promise((resolve, reject) => {
          socket.once('synced', resolve);
          socket.once('connect_error', reject);
        });
      } finally {
        socket.disconnect();
      }
    });

    it('refuses an invalid demo device with one 400 detail per problem', async () => {
      const invalid = await call(demo, 'POST', '/api/devices', { accountId: '', platform: 'fridge', extra: 1 });
      expect(invalid.status).to.equal(400);
      expect(invalid.body).to.have.nested.property('error.code', 'invalid_request');
      const paths = (invalid.body as { error: { details: { path: string }[] } }).error.details.map((detail) => detail.path);
      expect(paths).to.include.members(['accountId', 'platform', '']);

      const notJson = await call(demo, 'POST', '/api/devices', 'accountId=a');
      expect(notJson.status).to.equal(400);
      expect(notJson.body).to.have.nested.property('error.code', 'invalid_request');
    });

    it('lists the catalog from ingest with a sample payload per type', async () => {
      const types = await call(demo, 'GET', '/api/event-types');
      expect(types.status).to.equal(200);
      const { eventTypes } = types.body as { eventTypes: { type: string; priority: string; sample: Record<string, unknown> }[] };
      expect(eventTypes.map((entry) => entry.type)).to.include.members(['plan.changed', 'viewing.progress', 'recommendations.updated']);
      expect(eventTypes.find((entry) => entry.type === 'viewing.progress')?.sample).to.have.property('titleId');
    });

    it('sends a sample event through ingest to the account’s devices', async () => {
      const { token } = await stack.registerDevice({ accountId: 'acct-demo', platform: 'web', deviceId: 'web-1' });
      const socket = io(stack.gatewayUrl, { auth: { token }, transports: ['websocket'], reconnection: false });
      try {
        const received = new Promise<Notification>((resolve) => socket.on('notification', resolve));
        await new Promise((resolve) => socket.once('synced', resolve));
        const sent = await call(demo, 'POST', '/api/events', { accountId: 'acct-demo', type: 'viewing.progress' });
        expect(sent.status).to.equal(202);
        expect(sent.body).to.include({ status: 'accepted', priority: 'medium' });
        const notification = await received;
        expect(notification.id).to.equal((sent.body as { id: string }).id);
        expect(notification.payload).to.have.property('titleId');
      } finally {
        socket.disconnect();
      }
    });

    it('passes on ingest’s 400 for a type the catalog does not know, and refuses a bad body itself', async () => {
      const unknown = await call(demo, 'POST', '/api/events', { accountId: 'acct-demo', type: 'no.such.type' });
      expect(unknown.status).to.equal(400);
      expect(unknown.body).to.have.nested.property('error.code', 'invalid_request');
      expect(JSON.stringify(unknown.body)).to.contain('no.such.type');

      const invalid = await call(demo, 'POST', '/api/events', { accountId: 'acct-demo', payload: [] });
      expect(invalid.status).to.equal(400);
      const paths = (invalid.body as { error: { details: { path: string }[] } }).error.details.map((detail) => detail.path);
      expect(paths).to.include.members(['type', 'payload']);
    });

    it('refuses a payload nested 5,000 deep with a 400 (regression: forwarding it to ingest overflowed the stack, a 500)', async () => {
      const body = `{"accountId":"acct-demo","type":"plan.changed","payload":${'{"a":'.repeat(4999)}{}${'}'.repeat(4999)}}`;
      const deep = await call(demo, 'POST', '/api/events', body);
      expect(deep.status).to.equal(400);
      expect(deep.body).to.have.nested.property('error.details[0].path', 'payload');
    });
  });

  describe('when ingest is down', () => {
    // Port 2 on loopback: nothing listens there, so the connection is refused at once (port 1 is
    // on fetch's list of blocked ports, which would fail before connecting).
    const stack = useStack();
    const demo = useDemo(stack, { ingestUrl: 'http://127.0.0.1:2' });

    it('answers 502 saying ingest is not reachable and how to fix it', async () => {
      const sent = await call(demo, 'POST', '/api/events', { accountId: 'acct-demo', type: 'plan.changed' });
      expect(sent.status).to.equal(502);
      expect(sent.body).to.have.nested.property('error.code', 'unavailable');
      const { message } = (sent.body as { error: { message: string } }).error;
      expect(message).to.contain('http://127.0.0.1:2').and.contain('not reachable').and.contain('HERALD_INGEST_URL');

      const types = await call(demo, 'GET', '/api/event-types');
      expect(types.status).to.equal(502);
      const device = await call(demo, 'POST', '/api/devices', { accountId: 'acct-demo', platform: 'web' });
      expect(device.status).to.equal(502);
    });
  });
});
