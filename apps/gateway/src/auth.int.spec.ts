import { expect } from 'chai';
import { Manager } from 'socket.io-client';
import { DeviceTokens } from '@herald/devices';
import { useTestRedis, waitFor } from '@herald/testing';
import { SECRET, useGateways } from './gateway.fixture.js';

describe('gateway auth', () => {
  const redis = useTestRedis();
  const gw = useGateways(redis);

  const pull = (url: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${url}/v1/notifications`, { method, headers });

  it('refuses a handshake without a token, saying how to send one', async () => {
    const node = await gw.startNode();
    const error = await gw.refusal(node.url, {});
    expect(error.message).to.match(/Send the device token/);
    expect(error.data).to.deep.include({ code: 'unauthorized' });
  });

  it('refuses a malformed token and a revoked one, saying which', async () => {
    const node = await gw.startNode();
    const malformed = await gw.refusal(node.url, { token: 'not-a-jwt' });
    expect(malformed.data).to.deep.equal({ code: 'unauthorized', message: 'The device token is invalid.' });
    const token = await gw.register('tv');
    await gw.registry.remove('alice', 'tv');
    const revoked = await gw.refusal(node.url, { token });
    expect(revoked.message).to.equal('The device token has been revoked.');
    expect(revoked.data?.code).to.equal('unauthorized');
  });

  it('refuses a malformed cursor with invalid_request and one detail per problem', async () => {
    const node = await gw.startNode();
    const error = await gw.refusal(node.url, { token: await gw.register('tv'), cursor: 'latest' });
    expect(error.data?.code).to.equal('invalid_request');
    expect(error.data?.details).to.deep.equal([{ path: 'cursor', message: 'must be a cursor from Herald (<ms>-<seq>)' }]);
  });

  it('disconnects a socket whose token expires, and refuses the expired token on the socket and on pull', async () => {
    // The node's clock (its heartbeats' and its token checks') jumps ahead instead of the test sleeping.
    let clock = Date.now();
    const node = await gw.startNode({ presenceTtlMs: 600 }, () => clock);
    const { device } = await gw.registry.register({ accountId: 'alice', platform: 'tv', deviceId: 'tv' });
    // A minute: well within the connection's 30 min max lifetime, so expiry alone ends it.
    const expiring = await new DeviceTokens({ secret: SECRET, ttlSeconds: 60, now: () => clock }).sign(device, device.credentialId);
    const connected = await gw.connect(node.url, { token: expiring });
    clock += 60_000;
    await waitFor('the socket to be disconnected', () => !connected.socket.connected);
    expect(connected.errors).to.deep.equal([{ code: 'unauthorized', message: 'The device token has expired.' }]);
    expect(connected.reconnectRequests).to.deep.equal([]);
    const error = await gw.refusal(node.url, { token: expiring });
    expect(error.data).to.deep.equal({ code: 'unauthorized', message: 'The device token has expired.' });
    const response = await pull(node.url, { authorization: `Bearer ${expiring}` });
    expect(response.status).to.equal(401);
    expect(await response.json()).to.deep.equal({ error: { code: 'unauthorized', message: 'The device token has expired.' } });
  });

  it('refuses a browser origin not on the allow-list, and accepts listed origins and clients without one', async () => {
    const node = await gw.startNode({ allowedOrigins: ['https://app.example.com'] });
    const token = await gw.register('tv');
    const refused = await gw.refusal(node.url, { token }, { origin: 'https://evil.example.com' });
    expect(refused.data).to.deep.equal({ code: 'forbidden', message: 'Origin https://evil.example.com is not allowed to use this gateway.' });
    const listed = gw.open(node.url, { token }, { extraHeaders: { origin: 'https://app.example.com' } });
    await waitFor('the listed origin to connect', () => listed.synced.length === 1, { timeoutMs: 3000 });
    await gw.connect(node.url, { token });

    const forbidden = await pull(node.url, { authorization: `Bearer ${token}`, origin: 'https://evil.example.com' });
    expect(forbidden.status).to.equal(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).to.equal('forbidden');
    const allowed = await pull(node.url, { authorization: `Bearer ${token}`, origin: 'https://app.example.com' });
    expect(allowed.status).to.equal(200);
    expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://app.example.com');
    const preflight = await pull(node.url, { origin: 'https://app.example.com', 'access-control-request-method': 'GET' }, 'OPTIONS');
    expect(preflight.status).to.equal(204);
    expect(preflight.headers.get('access-control-allow-headers')).to.match(/authorization/i);
  });

  it('closes an engine connection that never authenticates within the connect timeout', async () => {
    const node = await gw.startNode({ connectTimeoutMs: 200 });
    const manager = new Manager(node.url, { transports: ['websocket'], reconnection: false, autoConnect: false });
    const closed = new Promise<string>((resolve) => manager.once('close', resolve));
    manager.open();
    await waitFor('the engine connection', () => node.gateway.io.engine.clientsCount === 1, { timeoutMs: 2000 });
    expect(await closed).to.be.a('string');
    expect(node.gateway.io.engine.clientsCount).to.equal(0);
  });

  it('disconnects a device deleted while connected at the next heartbeat, saying its token was revoked', async () => {
    const node = await gw.startNode({ presenceTtlMs: 1500 });
    const device = await gw.connect(node.url, { token: await gw.register('tv') });
    const reason = new Promise<string>((resolve) => device.socket.once('disconnect', resolve));
    await gw.registry.remove('alice', 'tv');
    expect(await reason).to.equal('io server disconnect');
    expect(device.errors).to.deep.equal([{ code: 'unauthorized', message: 'The device token has been revoked.' }]);
    expect((await gw.presence.onlineDevices('alice')).size).to.equal(0);
  });

  it('answers pulls without a token, with a malformed one or a revoked one with 401', async () => {
    const node = await gw.startNode();
    const token = await gw.register('tv');
    await gw.registry.remove('alice', 'tv');
    for (const [headers, message] of [
      [{}, 'Send the device token as `Authorization: Bearer <token>`.'],
      [{ authorization: 'Basic abc' }, 'Send the device token as `Authorization: Bearer <token>`.'],
      [{ authorization: 'Bearer nope' }, 'The device token is invalid.'],
      [{ authorization: `Bearer ${token}` }, 'The device token has been revoked.'],
    ] as const) {
      const response = await pull(node.url, headers);
      expect(response.status).to.equal(401);
      expect(await response.json()).to.deep.equal({ error: { code: 'unauthorized', message } });
    }
  });
});
