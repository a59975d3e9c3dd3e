import { expect } from 'chai';
import { HeraldPoller, MemoryCursorStorage } from '@herald/client';
import type { HeraldPollerOptions } from '@herald/client';
import { waitFor } from '@herald/testing';
import { HttpProxy, newestCursor, nextEvent, record, sleep, waitForHistory } from './client-e2e.fixture.js';
import { useStack } from './stack.fixture.js';

describe('HeraldPoller (mobile SDK) against the real stack', function () {
  this.timeout(20_000);
  const opened: { close(): Promise<void> }[] = [];
  const pollers: HeraldPoller[] = [];
  // Registered before useStack's hooks, so pollers stop before the stack does.
  afterEach(async () => {
    for (const poller of pollers.splice(0)) await poller.stop();
    for (const closable of opened.splice(0)) await closable.close();
  });
  const stack = useStack();

  const poller = (options: Partial<HeraldPollerOptions> & { token: string }): HeraldPoller => {
    const created = new HeraldPoller({ url: stack.gatewayUrl, waitMs: 10_000, ...options });
    pollers.push(created);
    return created;
  };
  const gatewayProxy = async (): Promise<HttpProxy> => {
    const proxy = await HttpProxy.start(stack.gatewayUrl, '/v1/notifications');
    opened.push(proxy);
    return proxy;
  };

  it('long-polls: an event sent while a pull waits arrives at once, not when the wait is over', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-p1', platform: 'ios', deviceId: 'ios-1' });
    const proxy = await gatewayProxy();
    const phone = poller({ token, url: proxy.url, waitMs: 20_000 });
    phone.start();
    const [synced] = await nextEvent(phone, 'synced');
    expect(synced).to.deep.equal({ cursor: null, replayed: 0, reset: false });
    await waitFor('the next pull, a long-poll, to be waiting', () => proxy.requestsTo('/v1/notifications').some((pull) => pull.path.includes('waitMs=20000')));

    const started = Date.now();
    const received = nextEvent(phone, 'notification');
    const { id } = await stack.send({ type: 'plan.changed', accountId: 'acct-p1', payload: { plan: 'basic' } });
    const [notification] = await received;
    expect(Date.now() - started).to.be.below(3000);
    expect(notification).to.include({ id, type: 'plan.changed', accountId: 'acct-p1' });
    expect(phone.cursor).to.equal(notification.cursor);
    // One pull answered empty-handed at start, one woken by the event, one waiting now: no busy polling.
    expect(proxy.requestsTo('/v1/notifications').length).to.be.at.most(3);
    expect(proxy.requestsTo('/v1/notifications')[0]!.headers['authorization']).to.equal(`Bearer ${token}`);
  });

  it('keeps its cursor in the storage: a new poller continues after the last notification processed', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-p2', platform: 'android', deviceId: 'android-1' });
    const storage = new MemoryCursorStorage();
    const first = poller({ token, storage, storageKey: 'android-1' });
    const firstSeen = record(first, 'notification');
    first.start();
    await nextEvent(first, 'synced');
    await stack.send({ type: 'mylist.updated', accountId: 'acct-p2', payload: { n: 1 } });
    await stack.send({ type: 'mylist.updated', accountId: 'acct-p2', payload: { n: 2 } });
    await waitFor('the first poller got both', () => firstSeen.length === 2);
    await first.stop();
    expect(first.running).to.equal(false);
    expect(storage.get('android-1')).to.equal(firstSeen[1]![0].cursor);

    await stack.send({ type: 'mylist.updated', accountId: 'acct-p2', payload: { n: 3 } });
    await stack.send({ type: 'mylist.updated', accountId: 'acct-p2', payload: { n: 4 } });
    await waitForHistory(stack, 'acct-p2', 4);
    const second = poller({ token, storage, storageKey: 'android-1', limit: 1 });
    const secondSeen = record(second, 'notification');
    second.start();
    const [synced] = await nextEvent(second, 'synced');
    expect(secondSeen.map(([n]) => n.payload['n'])).to.deep.equal([3, 4]);
    expect(synced).to.include({ replayed: 2, reset: false });
    await second.stop();
    expect(storage.get('android-1')).to.equal(secondSeen[1]![0].cursor);
  });

  it('emits reset, then synced, when its stored cursor is older than the retained history', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-p3', platform: 'ios', deviceId: 'ios-1' });
    await stack.send({ type: 'plan.changed', accountId: 'acct-p3' });
    await waitForHistory(stack, 'acct-p3', 1);
    const newest = await newestCursor(stack, 'acct-p3');
    const storage = new MemoryCursorStorage();
    storage.set('ios-1', '1-0');
    const phone = poller({ token, storage, storageKey: 'ios-1' });
    const order: string[] = [];
    phone.on('reset', () => order.push('reset'));
    phone.on('synced', () => order.push('synced'));
    phone.on('notification', () => order.push('notification'));
    phone.start();
    const [synced] = await nextEvent(phone, 'synced');
    expect(synced).to.deep.equal({ cursor: newest, replayed: 0, reset: true });
    expect(order).to.deep.equal(['reset', 'synced']);
    await phone.stop();
    expect(storage.get('ios-1')).to.equal(newest);
  });

  it('backs off with jitter while the gateway fails, then recovers and delivers', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-p4', platform: 'ios', deviceId: 'ios-1' });
    await stack.send({ type: 'plan.changed', accountId: 'acct-p4' });
    await waitForHistory(stack, 'acct-p4', 1);
    const proxy = await gatewayProxy();
    proxy.script({ status: 503, body: { error: { code: 'unavailable', message: 'Shutting down.' } } }, 3);
    const phone = poller({ token, url: proxy.url, backoff: { initialDelayMs: 200, maxDelayMs: 5000, randomizationFactor: 0.5 } });
    const errors = record(phone, 'error');
    const connected = record(phone, 'connected');
    phone.start();
    await nextEvent(phone, 'notification', 8000);

    expect(errors.map(([error]) => [error.code, error.status, error.fatal])).to.deep.equal([
      ['unavailable', 503, false],
      ['unavailable', 503, false],
      ['unavailable', 503, false],
    ]);
    expect(connected).to.have.length(1);
    const pulls = proxy.requestsTo('/v1/notifications');
    expect(pulls.slice(0, 4).map((pull) => pull.answeredBy)).to.deep.equal(['script', 'script', 'script', 'target']);
    // 200 ms doubling, ±50 %: the gaps lie within [100, 300], [200, 600], [400, 1200]. Lower
    // bounds are exact; upper ones get a second of slack for a busy machine.
    const gaps = [1, 2, 3].map((i) => pulls[i]!.at - pulls[i - 1]!.at);
    [
      [100, 300],
      [200, 600],
      [400, 1200],
    ].forEach(([low, high], i) => expect(gaps[i], `gap ${i}`).to.be.within(low! - 5, high! + 1000));
  });

  it('waits out Retry-After on a 429 even when its own backoff is shorter', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-p5', platform: 'android', deviceId: 'android-1' });
    const proxy = await gatewayProxy();
    proxy.script({ status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'rate_limited', message: 'Slow down.' } } });
    const phone = poller({ token, url: proxy.url, backoff: { initialDelayMs: 20, maxDelayMs: 100 } });
    const errors = record(phone, 'error');
    phone.start();
    await nextEvent(phone, 'synced', 5000);
    const pulls = proxy.requestsTo('/v1/notifications');
    expect(pulls[1]!.at - pulls[0]!.at).to.be.at.least(995);
    expect(errors.map(([error]) => [error.code, error.retryAfterMs])).to.deep.equal([['rate_limited', 1000]]);
  });

  it('stops for good when its token is revoked (401), without retrying', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-p6', platform: 'ios', deviceId: 'ios-1' });
    const proxy = await gatewayProxy();
    const phone = poller({ token, url: proxy.url, waitMs: 500, backoff: { initialDelayMs: 20, maxDelayMs: 100 } });
    const disconnected = record(phone, 'disconnected');
    phone.start();
    await nextEvent(phone, 'synced');
    const removed = await fetch(`${stack.ingestUrl}/v1/accounts/acct-p6/devices/ios-1`, { method: 'DELETE', headers: stack.serviceHeaders });
    expect(removed.status).to.equal(204);

    const [error] = await nextEvent(phone, 'error', 5000);
    expect(error).to.include({ code: 'unauthorized', status: 401, fatal: true });
    expect(error.message).to.match(/revoked/);
    const pulls = proxy.requestsTo('/v1/notifications').length;
    expect(phone.running).to.equal(false);
    // stop() of a poller already stopped only waits for its loop to end: after that nothing can pull.
    await phone.stop();
    expect(proxy.requestsTo('/v1/notifications').length).to.equal(pulls);
    expect(disconnected.map(([reason]) => reason)).to.have.length(1);
  });

  it('backs off when long-polls come back empty at once (a gateway shutting down answers its waiting pulls) instead of spinning', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-p9', platform: 'ios', deviceId: 'ios-1' });
    const proxy = await gatewayProxy();
    // Every pull, from the first, is answered at once with an empty page (scripted before the
    // start, so no real long-poll is left waiting in between).
    proxy.script({ status: 200, body: { notifications: [], cursor: null, reset: false } }, 1000);
    const phone = poller({ token, url: proxy.url, waitMs: 10_000, backoff: { initialDelayMs: 100, maxDelayMs: 400 } });
    phone.start();
    await nextEvent(phone, 'synced');
    const before = proxy.requestsTo('/v1/notifications').length;
    await sleep(1000);
    // Without the backoff: hundreds of pulls a second. With it: 100, 200, 400, 400 ms apart.
    expect(proxy.requestsTo('/v1/notifications').length - before).to.be.within(2, 6);
  });

  it('drops notifications it has already processed when an answer comes twice', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-p7', platform: 'ios', deviceId: 'ios-1' });
    await stack.send({ type: 'plan.changed', accountId: 'acct-p7', payload: { n: 1 } });
    await stack.send({ type: 'plan.changed', accountId: 'acct-p7', payload: { n: 2 } });
    await waitForHistory(stack, 'acct-p7', 2);
    const proxy = await gatewayProxy();
    // A stale cache answers the second pull with the first pull's answer, processed already.
    proxy.script({ replayPrevious: true });
    const phone = poller({ token, url: proxy.url, waitMs: 200 });
    const notifications = record(phone, 'notification');
    phone.start();
    await nextEvent(phone, 'synced');
    // The loop pulls again only once it has processed the replayed answer.
    await waitFor('a pull after the replayed answer', () => {
      const pulls = proxy.requestsTo('/v1/notifications');
      const replayed = pulls.findIndex((pull) => pull.answeredBy === 'script');
      return replayed >= 0 && pulls.length > replayed + 1;
    });
    expect(proxy.requestsTo('/v1/notifications').filter((pull) => pull.answeredBy === 'script')).to.have.length(1);
    expect(notifications.map(([n]) => n.payload['n'])).to.deep.equal([1, 2]);
  });

  it('stop() aborts the pull in flight at once', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-p8', platform: 'ios', deviceId: 'ios-1' });
    const phone = poller({ token, waitMs: 20_000 });
    const disconnected = record(phone, 'disconnected');
    phone.start();
    await nextEvent(phone, 'synced');
    await sleep(100);
    const started = Date.now();
    await phone.stop();
    expect(Date.now() - started).to.be.below(500);
    expect(phone.running).to.equal(false);
    expect(disconnected.map(([reason]) => reason)).to.deep.equal(['stopped']);
  });
});
