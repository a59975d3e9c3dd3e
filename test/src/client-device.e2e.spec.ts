import { expect } from 'chai';
import { HeraldClientError, HeraldDevice, MemoryCursorStorage } from '@herald/client';
import type { HeraldDeviceOptions, Notification } from '@herald/client';
import { encodeLiveMessages, encodeLivePush } from '@herald/contracts';
import { History } from '@herald/history';
import { LiveStream } from '@herald/live';
import { partitionOf } from '@herald/priority-streams';
import { createKeys, scanKeys, unlinkKeys } from '@herald/redis';
import { waitFor } from '@herald/testing';
import { TcpProxy, newestCursor, nextEvent, record, sleep, waitForHistory } from './client-e2e.fixture.js';
import { useStack } from './stack.fixture.js';

/** Short backoff, so reconnects (and any reconnect loop) show up within a test. */
const FAST_BACKOFF = { initialDelayMs: 100, maxDelayMs: 400, randomizationFactor: 0.5 };

describe('HeraldDevice (web/TV SDK) against the real stack', function () {
  this.timeout(20_000);
  const opened: { close(): Promise<void> }[] = [];
  // Registered before useStack's hooks, so clients close before the stack stops.
  afterEach(async () => {
    for (const closable of opened.splice(0).reverse()) await closable.close();
  });
  // Heartbeats (and so token revalidation) every 500 ms instead of 10 s.
  const stack = useStack({ HERALD_PRESENCE_TTL_MS: '1500' });

  const open = (options: Partial<HeraldDeviceOptions> & { token: string }): HeraldDevice => {
    const device = new HeraldDevice({ url: stack.gatewayUrl, backoff: FAST_BACKOFF, transports: ['websocket'], ...options });
    opened.push(device);
    return device;
  };

  it('delivers a notification end to end and acknowledges it with the emit callback', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-d1', platform: 'web', deviceId: 'web-1' });
    const device = open({ token });
    const [synced] = await nextEvent(device, 'synced');
    expect(synced).to.deep.equal({ cursor: null, replayed: 0, reset: false });
    expect(device.connected).to.equal(true);

    const received = nextEvent(device, 'notification');
    const { id } = await stack.send({ type: 'plan.changed', accountId: 'acct-d1', payload: { plan: 'premium' } });
    const [notification] = await received;
    expect(notification).to.include({ id, type: 'plan.changed', accountId: 'acct-d1', priority: 'high' });
    expect(notification.payload).to.deep.equal({ plan: 'premium' });
    expect(device.cursor).to.equal(notification.cursor);

    const acks = createKeys(stack.redis.prefix).deviceAcks('acct-d1');
    await waitFor('the gateway recorded the ack', async () => (await stack.redis.client.hget(acks, 'web-1')) === notification.cursor);
  });

  it('resumes from the stored cursor after a restart: what was sent while offline arrives once, in order, then synced', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-d2', platform: 'tv', deviceId: 'tv-1' });
    const storage = new MemoryCursorStorage();
    const first = open({ token, storage, storageKey: 'tv-1' });
    await nextEvent(first, 'synced');
    const live = nextEvent(first, 'notification');
    await stack.send({ type: 'mylist.updated', accountId: 'acct-d2', payload: { n: 0 } });
    const [seen] = await live;
    await first.close();
    expect(storage.get('tv-1')).to.equal(seen.cursor);

    const sent: string[] = [];
    for (let n = 1; n <= 3; n++) sent.push((await stack.send({ type: 'mylist.updated', accountId: 'acct-d2', payload: { n } })).id);
    await waitForHistory(stack, 'acct-d2', 4);

    const second = open({ token, storage, storageKey: 'tv-1' });
    const events: string[] = [];
    const notifications: Notification[] = [];
    second.on('notification', (notification) => {
      events.push(`notification ${notification.id}`);
      notifications.push(notification);
    });
    second.on('synced', (synced) => events.push(`synced ${synced.replayed}`));
    await nextEvent(second, 'synced');
    // A marker on the same account and priority (one partition, one live stream): anything
    // pushed for the first three arrives before it.
    const marker = nextEvent(second, 'notification', 5000, (n) => n.payload['n'] === 4);
    sent.push((await stack.send({ type: 'mylist.updated', accountId: 'acct-d2', payload: { n: 4 } })).id);
    await marker;
    expect(events).to.deep.equal([...sent.slice(0, 3).map((id) => `notification ${id}`), 'synced 3', `notification ${sent[3]}`]);
    expect(notifications.map((n) => n.payload['n'])).to.deep.equal([1, 2, 3, 4]);
    await second.close();
    expect(storage.get('tv-1')).to.equal(notifications[3]!.cursor);
  });

  it('reconnects after the network drops and resumes with the newest cursor in its handshake', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-d3', platform: 'web', deviceId: 'web-1' });
    const proxy = await TcpProxy.start(stack.gatewayUrl);
    opened.push(proxy);
    const device = open({ token, url: proxy.url });
    const notifications = record(device, 'notification');
    const synced = record(device, 'synced');
    await nextEvent(device, 'synced');
    const live = nextEvent(device, 'notification');
    await stack.send({ type: 'plan.changed', accountId: 'acct-d3', payload: { n: 0 } });
    await live;

    const disconnected = nextEvent(device, 'disconnected');
    proxy.cut();
    const [reason] = await disconnected;
    expect(reason).to.equal('transport close');
    expect(device.connected).to.equal(false);
    const missed: string[] = [];
    for (let n = 1; n <= 2; n++) missed.push((await stack.send({ type: 'plan.changed', accountId: 'acct-d3', payload: { n } })).id);
    await waitForHistory(stack, 'acct-d3', 3);
    // Attempts while the network is down fail and back off; none gets through.
    await nextEvent(device, 'error', 3000, (error) => error.code === 'unreachable' && !error.fatal);

    const resynced = nextEvent(device, 'synced');
    const reconnected = nextEvent(device, 'connected');
    proxy.restore();
    await reconnected;
    const [after] = await resynced;
    expect(after).to.include({ replayed: 2, reset: false });
    // A marker on the same account and priority: a late duplicate of what was replayed arrives before it.
    const marker = nextEvent(device, 'notification', 5000, (n) => n.payload['n'] === 3);
    await stack.send({ type: 'plan.changed', accountId: 'acct-d3', payload: { n: 3 } });
    await marker;
    expect(notifications.map(([n]) => n.payload['n'])).to.deep.equal([0, 1, 2, 3]);
    expect(notifications.slice(1, 3).map(([n]) => n.id)).to.deep.equal(missed);
    expect(synced).to.have.length(2);
    expect(device.cursor).to.equal(notifications[3]![0].cursor);
  });

  it('drops a notification whose event id it has already seen, and still moves its cursor past it', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-d4', platform: 'web', deviceId: 'web-1' });
    const device = open({ token });
    const notifications = record(device, 'notification');
    await nextEvent(device, 'synced');
    const live = nextEvent(device, 'notification');
    await stack.send({ type: 'plan.changed', accountId: 'acct-d4' });
    const [original] = await live;

    // The stack runs 2 partitions per priority.
    // The same event id in history again under a later cursor (an id reused after the
    // idempotency window), pushed the production way: the gateway sends it, it is a new entry.
    const keys = createKeys(stack.redis.prefix);
    const history = new History({ redis: stack.redis.client, keys });
    const [entry] = await history.range('acct-d4', undefined, 1);
    // Past the idempotency window the id's sets have expired: delete them rather than wait out a window.
    const idSets = await scanKeys(stack.redis.client, `${stack.redis.prefix}:{a:acct-d4}:history-ids:*`);
    expect(idSets, 'the id sets of the window').to.have.length.above(0);
    await unlinkKeys(stack.redis.client, idSets);
    const [outcome] = await history.append('acct-d4', [entry!.entry]);
    expect(outcome?.appended, 'appended again, under a new cursor').to.equal(true);
    const again = { ...original, cursor: outcome!.cursor };
    const push = encodeLivePush('acct-d4', ['web-1'], outcome!.prev, JSON.stringify(again));
    const stream = new LiveStream({ keys });
    const staged = keys.liveStaged('high', partitionOf('acct-d4', 2), 'again', 'web');
    await stream.stage(stack.redis.client, staged, encodeLiveMessages([push]));
    await stream.appendStaged(stack.redis.client, 'high', partitionOf('acct-d4', 2), staged);

    // The device moves its cursor and emits (or drops) a notification in one synchronous step.
    await waitFor('the duplicate to reach the device', () => device.cursor === again.cursor);
    expect(notifications).to.have.length(1);
  });

  it('emits reset, then synced, when its cursor is older than the retained history, and starts over from the newest', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-d5', platform: 'web', deviceId: 'web-1' });
    await stack.send({ type: 'plan.changed', accountId: 'acct-d5' });
    await waitForHistory(stack, 'acct-d5', 1);
    const newest = await newestCursor(stack, 'acct-d5');

    const storage = new MemoryCursorStorage();
    storage.set('web-1', '1-0'); // seen in 1970: long trimmed away
    const device = open({ token, storage, storageKey: 'web-1' });
    const order: string[] = [];
    device.on('reset', () => order.push('reset'));
    device.on('synced', () => order.push('synced'));
    device.on('notification', () => order.push('notification'));
    const [synced] = await nextEvent(device, 'synced');
    expect(synced).to.deep.equal({ cursor: newest, replayed: 0, reset: true });
    expect(order).to.deep.equal(['reset', 'synced']);
    expect(device.cursor).to.equal(newest);
    await device.close();
    expect(storage.get('web-1')).to.equal(newest);
  });

  it('stops with a fatal unauthorized error when its token is revoked while connected, and does not reconnect', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-d6', platform: 'web', deviceId: 'web-1' });
    const device = open({ token });
    const connected = record(device, 'connected');
    const errors = record(device, 'error');
    await nextEvent(device, 'synced');

    const removed = await fetch(`${stack.ingestUrl}/v1/accounts/acct-d6/devices/web-1`, { method: 'DELETE', headers: stack.serviceHeaders });
    expect(removed.status).to.equal(204);
    const [error] = await nextEvent(device, 'error', 5000, (e) => e.fatal);
    expect(error).to.be.instanceOf(HeraldClientError);
    expect(error.code).to.equal('unauthorized');
    expect(error.message).to.match(/revoked/);

    await sleep(1500); // with a 100 ms backoff, a reconnect loop would show many attempts by now
    expect(device.connected).to.equal(false);
    expect(connected).to.have.length(1);
    expect(errors).to.have.length(1);
  });

  it('stops at once when the gateway refuses its token in the handshake', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-d7', platform: 'tv', deviceId: 'tv-1' });
    const removed = await fetch(`${stack.ingestUrl}/v1/accounts/acct-d7/devices/tv-1`, { method: 'DELETE', headers: stack.serviceHeaders });
    expect(removed.status).to.equal(204);

    const device = open({ token });
    const connected = record(device, 'connected');
    const errors = record(device, 'error');
    const [error] = await nextEvent(device, 'error');
    expect(error).to.include({ code: 'unauthorized', fatal: true });
    await sleep(1000);
    expect(errors).to.have.length(1);
    expect(connected).to.have.length(0);
  });
  it('stops at once when the handshake is refused as invalid: trying again could only be refused again', async () => {
    const device = open({ token: 'x'.repeat(5000), storageKey: 'oversized-token' });
    const errors = record(device, 'error');
    const [error] = await nextEvent(device, 'error');
    expect(error).to.include({ code: 'invalid_request', fatal: true });
    await sleep(800);
    expect(errors).to.have.length(1);
  });
});

describe('HeraldDevice when the gateway asks it to reconnect (connection lifetime)', function () {
  this.timeout(30_000);
  const opened: HeraldDevice[] = [];
  afterEach(async () => {
    for (const device of opened.splice(0)) await device.close();
  });
  // The shortest lifetime the gateway allows: each connection is asked to reconnect after 5..10 s.
  const stack = useStack({ HERALD_CONNECTION_MAX_LIFETIME_MS: '10000', HERALD_CONNECTION_LIFETIME_DITHER_MS: '5000' });

  it('reconnects after backoff on reconnect_requested and resumes with its cursor: what was sent meanwhile is replayed', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-life', platform: 'web', deviceId: 'web-1' });
    // Two seconds away (±50 %): long enough, even on a busy machine, for an event sent at the
    // disconnect to reach the history first.
    const device = new HeraldDevice({ url: stack.gatewayUrl, token, transports: ['websocket'], backoff: { initialDelayMs: 2000, maxDelayMs: 3000 } });
    opened.push(device);
    const notifications = record(device, 'notification');
    await nextEvent(device, 'synced');
    const live = nextEvent(device, 'notification');
    await stack.send({ type: 'plan.changed', accountId: 'acct-life', payload: { n: 1 } });
    await live;

    let sentWhileAway: Promise<{ id: string }> | undefined;
    device.once('disconnected', () => {
      sentWhileAway = stack.send({ type: 'plan.changed', accountId: 'acct-life', payload: { n: 2 } });
    });
    const [reason] = await nextEvent(device, 'disconnected', 12_000);
    expect(reason).to.equal('reconnect requested (max_lifetime)');
    const disconnectedAt = Date.now();
    const [synced] = await nextEvent(device, 'synced', 8000);
    expect(Date.now() - disconnectedAt, 'reconnected after a backoff delay, not at once').to.be.at.least(400);
    expect(synced).to.include({ replayed: 1, reset: false });
    const { id } = await sentWhileAway!;
    expect(notifications.map(([n]) => n.payload['n'])).to.deep.equal([1, 2]);
    expect(notifications[1]![0].id).to.equal(id);
  });
});
