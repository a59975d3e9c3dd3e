import { expect } from 'chai';
import { deviceRoom } from '@herald/contracts';
import { Presence } from '@herald/devices';
import { toNotification } from '@herald/history';
import { partitionOf } from '@herald/priority-streams';
import { useTestRedis, waitFor } from '@herald/testing';
import { entry, useGateways } from './gateway.fixture.js';

describe('gateway sockets', () => {
  const redis = useTestRedis();
  const gw = useGateways(redis);

  it('delivers a live push to its device, whichever of two nodes holds the device', async () => {
    const [a, b] = [await gw.startNode({ nodeId: 'a' }), await gw.startNode({ nodeId: 'b' })];
    const onA = await gw.connect(a.url, { token: await gw.register('tv-a') });
    const onB = await gw.connect(b.url, { token: await gw.register('tv-b') });
    const [first, second] = await gw.deliver('alice', [entry('e1', ['tv-a']), entry('e2', ['tv-b'])]);
    await waitFor('both pushes', () => onA.notifications.length === 1 && onB.notifications.length === 1, { timeoutMs: 3000 });
    expect(onA.notifications[0]).to.include({ id: 'e1', cursor: first!.cursor, accountId: 'alice' });
    expect(onB.notifications[0]).to.include({ id: 'e2', cursor: second!.cursor });
  });

  it('reaches a socket on another node through the sharded Redis adapter (SPUBLISH; on a Cluster, one master per channel)', async () => {
    const [a, b] = [await gw.startNode({ nodeId: 'a' }), await gw.startNode({ nodeId: 'b' })];
    const onB = await gw.connect(b.url, { token: await gw.register('tv-b') });
    const room = deviceRoom('alice', 'tv-b');
    await waitFor('the socket on b, seen from a', async () => (await a.gateway.io.in(room).fetchSockets()).length === 1, { timeoutMs: 3000 });
    a.gateway.io.to(room).emit('notification', toNotification('1-0', entry('through-the-adapter', ['tv-b'])));
    await waitFor('the emit from a', () => onB.notifications.length === 1, { timeoutMs: 3000 });
    expect(onB.notifications[0]).to.include({ id: 'through-the-adapter', cursor: '1-0' });
  });

  it('serves a long-polling client (no WebSocket) the same way', async () => {
    const node = await gw.startNode();
    const [seed] = await gw.history.append('alice', [entry('seed', ['tv'])]);
    const device = await gw.connect(node.url, { token: await gw.register('tv') }, { transports: ['polling'] });
    expect(device.synced[0]?.cursor).to.equal(seed!.cursor);
    await gw.deliver('alice', [entry('next', ['tv'])]);
    await waitFor('the push over polling', () => device.notifications.length === 1, { timeoutMs: 3000 });
  });

  it('sends synced with the newest cursor and replays nothing to a device that connects without a cursor', async () => {
    const node = await gw.startNode();
    const [, latest] = await gw.history.append('alice', [entry('e1', ['tv']), entry('e2', ['tv'])]);
    const device = await gw.connect(node.url, { token: await gw.register('tv') });
    expect(device.synced).to.deep.equal([{ cursor: latest!.cursor, replayed: 0, reset: false }]);
    expect(device.notifications).to.deep.equal([]);
  });

  it('keeps a device online while any of its sockets on a node is open, and offline after the last closes', async () => {
    const node = await gw.startNode({ nodeId: 'n1' });
    const token = await gw.register('tv');
    const first = await gw.connect(node.url, { token });
    const second = await gw.connect(node.url, { token });
    expect([...(await gw.presence.onlineDevices('alice'))]).to.deep.equal(['tv']);
    first.socket.disconnect();
    // The node handles a disconnect (and decides whether the device goes offline) in the same
    // tick it forgets the socket: once it has, a wrong markOffline would already have been sent.
    await waitFor('the node to drop the first socket', () => node.gateway.io.sockets.sockets.size === 1);
    expect([...(await gw.presence.onlineDevices('alice'))]).to.deep.equal(['tv']);
    second.socket.disconnect();
    await waitFor('the device to go offline', async () => (await gw.presence.onlineDevices('alice')).size === 0, { timeoutMs: 2000 });
  });

  it('keeps presence fresh with heartbeats, so a device stays online past the presence ttl', async () => {
    // The node's clock moves in half-ttl steps instead of the test sleeping; heartbeats still run every ttl/3.
    const ttl = 300;
    let clock = Date.now();
    const node = await gw.startNode({ presenceTtlMs: ttl }, () => clock);
    await gw.connect(node.url, { token: await gw.register('tv') });
    const presence = new Presence({ redis: redis.client, keys: gw.keys, now: () => clock });
    const onlineUntil = async () => Math.max(...(await redis.client.hvals(gw.keys.presence('alice'))).map(Number));
    for (let elapsed = ttl / 2; elapsed <= 2 * ttl; elapsed += ttl / 2) {
      clock += ttl / 2;
      expect([...(await presence.onlineDevices('alice'))], `${elapsed} ms after connecting`).to.deep.equal(['tv']);
      await waitFor(`a heartbeat ${elapsed} ms after connecting`, async () => (await onlineUntil()) >= clock + ttl);
    }
  });

  it('refreshes the device lastSeenAt when it connects', async () => {
    const node = await gw.startNode();
    const token = await gw.register('tv');
    const before = (await gw.registry.get('alice', 'tv'))!.lastSeenAt;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await gw.connect(node.url, { token });
    await waitFor('lastSeenAt to move', async () => (await gw.registry.get('alice', 'tv'))!.lastSeenAt > before, { timeoutMs: 2000 });
  });

  it('records acks by event and by emit callback, moving the device cursor only forward, and traces the event', async () => {
    const node = await gw.startNode();
    const token = await gw.register('tv');
    const [c0, c1, c2] = await gw.history.append('alice', [entry('e0', ['tv']), entry('e1', ['tv']), entry('e2', ['tv'])]);
    const device = await gw.connect(node.url, { token, cursor: c0!.cursor }, { ackWith: 'callback' });
    expect(device.notifications.map((n) => n.id)).to.deep.equal(['e1', 'e2']);
    const acks = gw.keys.deviceAcks('alice');
    await waitFor('the callback acks', async () => (await redis.client.hget(acks, 'tv')) === c2!.cursor, { timeoutMs: 2000 });
    const reply = await device.socket.emitWithAck('ack', { cursor: c1!.cursor });
    expect(reply).to.deep.equal({ ok: true });
    expect(await redis.client.hget(acks, 'tv')).to.equal(c2!.cursor);
    const trace = await redis.client.hgetall(gw.keys.trace('e2'));
    expect(Number(trace['ack:tv'])).to.be.closeTo(Date.now(), 5000);
    expect(await redis.client.pttl(gw.keys.trace('e2'))).to.be.above(0);
    expect(await redis.client.pttl(acks)).to.be.above(0);
  });

  it('answers an invalid ack with invalid_request', async () => {
    const node = await gw.startNode();
    const device = await gw.connect(node.url, { token: await gw.register('tv') });
    const reply = (await device.socket.emitWithAck('ack', { cursor: 'yesterday' } as never)) as { ok: boolean; error?: { code: string } };
    expect(reply.ok).to.equal(false);
    expect(reply.error?.code).to.equal('invalid_request');
  });

  it('drops a live push it already sent (a retried delivery job), and says so in the metrics and not in the trace', async () => {
    const node = await gw.startNode();
    const device = await gw.connect(node.url, { token: await gw.register('tv') });
    const e1 = entry('e1', ['tv']);
    const [appended] = await gw.deliver('alice', [e1]);
    // The job again (its worker died before completing it), then a marker that must follow it.
    await gw.push([{ entry: e1, outcome: appended!, deviceIds: ['tv'] }]);
    await gw.deliver('alice', [entry('marker', ['tv'])]);
    await waitFor('the marker', () => device.notifications.some((n) => n.id === 'marker'), { timeoutMs: 3000 });
    expect(device.notifications.map((n) => n.id)).to.deep.equal(['e1', 'marker']);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).to.match(/herald_gateway_notifications_dropped_total\{reason="duplicate"[^}]*\} 1/);
    expect(await gw.liveSends('e1'), 'the first push listed, the dropped one not').to.deep.equal(['tv']);
    expect(await redis.client.exists(gw.keys.trace('e1')), 'nothing sent from history').to.equal(0);
  });

  it('refuses messages over the rate limit with rate_limited, then disconnects a client that keeps going', async () => {
    const node = await gw.startNode({ rateLimit: { burst: 3, perSecond: 1, maxRefusedInARow: 5 } });
    const device = await gw.connect(node.url, { token: await gw.register('tv') });
    const disconnected = new Promise<string>((resolve) => device.socket.once('disconnect', resolve));
    for (let i = 0; i < 10; i++) device.socket.emit('ack', { cursor: '1-0' });
    expect(await disconnected).to.equal('io server disconnect');
    expect(device.errors.map((e) => e.code)).to.deep.equal(['rate_limited', 'rate_limited']);
  });

  it('asks the client to reconnect when the connection reaches its lifetime', async () => {
    const node = await gw.startNode({ connectionMaxLifetimeMs: 300, lifetimeDitherMs: 100 });
    const device = await gw.connect(node.url, { token: await gw.register('tv') });
    const reason = await new Promise<string>((resolve) => device.socket.once('disconnect', resolve));
    expect(device.reconnectRequests).to.deep.equal(['max_lifetime']);
    // A transport close: socket.io-client reconnects by itself (with its backoff) when reconnection is on.
    expect(reason).to.equal('transport close');
  });

  it('drops a live message that does not match the contract, and goes on with the next', async () => {
    const node = await gw.startNode();
    const device = await gw.connect(node.url, { token: await gw.register('tv') });
    await gw.appendLive('medium', partitionOf('alice', 4), ['[{"id":"x"}]']);
    await gw.deliver('alice', [entry('marker', ['tv'])]);
    await waitFor('the marker', () => device.notifications.length > 0, { timeoutMs: 3000 });
    expect(device.notifications.map((n) => n.id)).to.deep.equal(['marker']);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).to.match(/herald_gateway_notifications_dropped_total\{reason="invalid"[^}]*\} 1/);
  });

  it('asks every client to reconnect and marks its devices offline when it closes', async () => {
    const node = await gw.startNode();
    const device = await gw.connect(node.url, { token: await gw.register('tv') });
    await node.close();
    await waitFor('reconnect_requested', () => device.reconnectRequests.length > 0, { timeoutMs: 2000 });
    expect(device.reconnectRequests).to.deep.equal(['shutting_down']);
    expect((await gw.presence.onlineDevices('alice')).size).to.equal(0);
  });
});
