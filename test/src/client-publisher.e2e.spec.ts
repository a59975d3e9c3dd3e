import { expect } from 'chai';
import { HeraldClientError, HeraldPublisher } from '@herald/client';
import type { EventInput, EventResult, HeraldPublisherOptions, PublisherRetry } from '@herald/client';
import { freePort } from '@herald/embedded-redis';
import { partitionOf } from '@herald/priority-streams';
import { waitFor } from '@herald/testing';
import { HttpProxy, historyIds, sleep, waitForHistory } from './client-e2e.fixture.js';
import { useStack } from './stack.fixture.js';

/** How many events each batch request that went through the proxy carried. */
function batchSizes(proxy: HttpProxy): number[] {
  return proxy.requestsTo('/v1/events/batch').map((request) => (JSON.parse(request.body) as { events: unknown[] }).events.length);
}

function batchIds(proxy: HttpProxy, index: number): string[] {
  const request = proxy.requestsTo('/v1/events/batch')[index]!;
  return (JSON.parse(request.body) as { events: { id: string }[] }).events.map((event) => event.id);
}

async function rejection(promise: Promise<unknown>): Promise<HeraldClientError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(HeraldClientError);
    return error as HeraldClientError;
  }
  throw new Error('expected a rejection');
}

describe('HeraldPublisher (service SDK) against the real stack', function () {
  this.timeout(20_000);
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const closable of opened.splice(0).reverse()) await closable.close();
  });
  const stack = useStack();

  const ingestProxy = async (): Promise<HttpProxy> => {
    const proxy = await HttpProxy.start(stack.ingestUrl, '/v1/events/batch');
    opened.push(proxy);
    return proxy;
  };
  const publisher = (options: Partial<HeraldPublisherOptions> = {}): HeraldPublisher => {
    const created = new HeraldPublisher({ url: stack.ingestUrl, serviceKey: stack.serviceKey, ...options });
    opened.push(created);
    return created;
  };

  it('batches by size: 250 events sent at once go out as 100, 100 and 50, each resolving with its own result', async () => {
    const proxy = await ingestProxy();
    const herald = publisher({ url: proxy.url, maxBatchSize: 100, maxDelayMs: 300 });
    const events: EventInput[] = Array.from({ length: 250 }, (_, n) => ({
      ...(n % 2 === 0 ? { id: `size-${n}` } : {}),
      type: 'mylist.updated',
      accountId: `acct-${n % 7}`,
      payload: { n },
    }));
    const started = Date.now();
    const results = await Promise.all(events.map((event) => herald.send(event)));

    expect(batchSizes(proxy)).to.deep.equal([100, 100, 50]);
    const [first, second, third] = proxy.requestsTo('/v1/events/batch');
    expect(first!.at - started, 'full batches go at once').to.be.below(250);
    expect(second!.at - started).to.be.below(250);
    expect(third!.at - started, 'the rest waits for maxDelayMs').to.be.at.least(290);
    results.forEach((result, n) => {
      expect(result).to.include({ status: 'accepted', priority: 'medium' });
      if (n % 2 === 0) expect(result.id).to.equal(`size-${n}`);
    });
    // Ids generated here are the ones that were sent, one per event.
    const sent = [0, 1, 2].flatMap((i) => batchIds(proxy, i));
    expect(results.map((result) => result.id)).to.deep.equal(sent);
    expect(new Set(sent).size).to.equal(250);
  });

  it('batches by time: events sent within maxDelayMs share one request; a later one goes in the next', async () => {
    const proxy = await ingestProxy();
    const herald = publisher({ url: proxy.url, maxDelayMs: 150 });
    const started = Date.now();
    const first = herald.send({ type: 'plan.changed', accountId: 'acct-t' });
    await sleep(30);
    const second = herald.send({ type: 'plan.changed', accountId: 'acct-t' });
    await sleep(30);
    const third = herald.send({ type: 'plan.changed', accountId: 'acct-t' });
    await Promise.all([first, second, third]);
    expect(batchSizes(proxy)).to.deep.equal([3]);
    expect(proxy.requests[0]!.at - started).to.be.within(145, 400);

    await herald.send({ type: 'plan.changed', accountId: 'acct-t' });
    expect(batchSizes(proxy)).to.deep.equal([3, 1]);
  });

  it('rejects only the invalid items of a batch, with the server code and details, and resolves the others', async () => {
    const proxy = await ingestProxy();
    const herald = publisher({ url: proxy.url });
    const outcomes = await herald.sendBatch([
      { type: 'plan.changed', accountId: 'acct-i' },
      { type: 'no.such.type', accountId: 'acct-i' },
      { type: 'plan.changed', accountId: 'acct-i', createdAt: 'yesterday' },
      { type: 'plan.changed', accountId: 'acct-i', id: 'item-ok' },
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).to.deep.equal([true, false, false, true]);
    const refused = outcomes[1]!;
    if (refused.ok) throw new Error('expected a refusal');
    expect(refused.error).to.include({ code: 'invalid_request', fatal: false });
    expect(refused.error.details?.map((detail) => detail.path)).to.include('events.1.type');
    const accepted = outcomes[3]!;
    if (!accepted.ok) throw new Error('expected an acceptance');
    expect(accepted.result).to.deep.equal({ id: 'item-ok', status: 'accepted', priority: 'high' });

    const error = await rejection(herald.send({ type: 'plan.changed', accountId: '' }));
    expect(error.code).to.equal('invalid_request');
    expect(error.details?.map((detail) => detail.path)).to.deep.equal(['events.0.accountId']);
    expect(batchSizes(proxy)).to.deep.equal([4, 1]);
  });

  it('gives each event an idempotency id, so a retry after a lost answer never accepts it twice', async () => {
    await stack.registerDevice({ accountId: 'acct-lost', platform: 'ios', deviceId: 'ios-1' });
    const proxy = await ingestProxy();
    proxy.script({ dropAnswer: true });
    const herald = publisher({ url: proxy.url, backoff: { initialDelayMs: 20, maxDelayMs: 100 } });
    const result = await herald.send({ type: 'plan.changed', accountId: 'acct-lost' });

    expect(proxy.requestsTo('/v1/events/batch').map((request) => request.answeredBy)).to.deep.equal(['script', 'target']);
    expect(batchIds(proxy, 0)).to.deep.equal([result.id]);
    expect(batchIds(proxy, 1)).to.deep.equal([result.id]);
    // The first attempt got through; the retry is recognized as the same event.
    expect(result.status).to.equal('duplicate');
    // A marker of the same type and account (one priority partition): were the retry routed
    // twice, its second entry would be in the history before the marker's.
    const marker = await herald.send({ type: 'plan.changed', accountId: 'acct-lost' });
    await waitForHistory(stack, 'acct-lost', 2);
    expect(await historyIds(stack, 'acct-lost')).to.deep.equal([result.id, marker.id]);
  });

  it('retries a 429 after its Retry-After, even when its own backoff is shorter', async () => {
    const proxy = await ingestProxy();
    proxy.script({ status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'backlog_exceeded', message: 'Too much backlog.' } } });
    const herald = publisher({ url: proxy.url, backoff: { initialDelayMs: 20, maxDelayMs: 100 } });
    const result = await herald.send({ type: 'plan.changed', accountId: 'acct-429' });
    expect(result.status).to.equal('accepted');
    const [refused, retried] = proxy.requestsTo('/v1/events/batch');
    expect(retried!.at - refused!.at).to.be.at.least(995);
    expect(batchIds(proxy, 1)).to.deep.equal(batchIds(proxy, 0));
  });

  it('retries 5xx answers with growing, jittered delays', async () => {
    const proxy = await ingestProxy();
    proxy.script({ status: 503, body: { error: { code: 'unavailable', message: 'Restarting.' } } }, 2);
    const herald = publisher({ url: proxy.url, backoff: { initialDelayMs: 200, maxDelayMs: 2000, randomizationFactor: 0.5 } });
    const result = await herald.send({ type: 'plan.changed', accountId: 'acct-503' });
    expect(result.status).to.equal('accepted');
    const attempts = proxy.requestsTo('/v1/events/batch');
    expect(attempts.map((attempt) => attempt.answeredBy)).to.deep.equal(['script', 'script', 'target']);
    // 200 ms then 400 ms, ±50 %: exact lower bounds, a second of slack above for a busy machine.
    expect(attempts[1]!.at - attempts[0]!.at).to.be.within(95, 1300);
    expect(attempts[2]!.at - attempts[1]!.at).to.be.within(195, 1600);
  });

  it('rejects at once, without retrying, on a 4xx other than 429 (a wrong service key)', async () => {
    const proxy = await ingestProxy();
    const herald = publisher({ url: proxy.url, serviceKey: 'not-the-key' });
    const error = await rejection(herald.send({ type: 'plan.changed', accountId: 'acct-key' }));
    expect(error).to.include({ code: 'unauthorized', status: 401 });
    await sleep(300);
    expect(proxy.requestsTo('/v1/events/batch')).to.have.length(1);
  });

  it('gives up after maxRetries on network errors, saying it could not connect', async () => {
    const herald = publisher({ url: `http://127.0.0.1:${await freePort()}`, maxRetries: 2, backoff: { initialDelayMs: 10, maxDelayMs: 20 } });
    const error = await rejection(herald.send({ type: 'plan.changed', accountId: 'acct-net' }));
    expect(error.code).to.equal('network_error');
    expect(error.message).to.match(/ECONNREFUSED/);
  });

  it('flush() sends what is queued at once; close() flushes and then refuses new events', async () => {
    const proxy = await ingestProxy();
    const herald = publisher({ url: proxy.url, maxDelayMs: 60_000 });
    const sent: Promise<EventResult>[] = [
      herald.send({ type: 'plan.changed', accountId: 'acct-f' }),
      herald.send({ type: 'plan.changed', accountId: 'acct-f' }),
    ];
    const started = Date.now();
    await herald.flush();
    expect(Date.now() - started).to.be.below(1000);
    expect((await Promise.all(sent)).map((result) => result.status)).to.deep.equal(['accepted', 'accepted']);

    const last = herald.send({ type: 'plan.changed', accountId: 'acct-f' });
    await herald.close();
    expect((await last).status).to.equal('accepted');
    expect(batchSizes(proxy)).to.deep.equal([2, 1]);
    expect((await rejection(herald.send({ type: 'plan.changed', accountId: 'acct-f' }))).code).to.equal('closed');
  });

  it('registers, lists and removes devices, and reads the catalog', async () => {
    const herald = publisher();
    const registered = await herald.registerDevice({ accountId: 'acct-reg', platform: 'tv', deviceId: 'tv-1', profileId: 'kids' });
    expect(registered.deviceId).to.equal('tv-1');
    expect(registered.token).to.be.a('string').with.length.above(0);
    const devices = await herald.listDevices('acct-reg');
    expect(devices.map(({ deviceId, platform, profileId, online }) => ({ deviceId, platform, profileId, online }))).to.deep.equal([
      { deviceId: 'tv-1', platform: 'tv', profileId: 'kids', online: false },
    ]);
    await herald.removeDevice('acct-reg', 'tv-1');
    expect(await herald.listDevices('acct-reg')).to.deep.equal([]);
    expect((await rejection(herald.removeDevice('acct-reg', 'tv-1'))).code).to.equal('not_found');

    const types = await herald.eventTypes();
    expect(types.find((type) => type.type === 'plan.changed')).to.include({ priority: 'high' });
  });

  it('traces an event: gates passed and the device it was pushed to', async () => {
    await stack.registerDevice({ accountId: 'acct-trace', platform: 'ios', deviceId: 'ios-1' });
    const herald = publisher();
    const { id } = await herald.send({ type: 'plan.changed', accountId: 'acct-trace' });
    const trace = await waitFor('the event to be routed', async () => {
      const read = await herald.trace(id);
      return read.status === 'routed' && read;
    });
    expect(trace).to.include({ id, priority: 'high', type: 'plan.changed', accountId: 'acct-trace' });
    expect(trace.gates.find((gate) => gate.gate === 'targeting')).to.deep.include({ verdict: 'passed', devices: ['ios-1'] });
    expect((await rejection(herald.trace('no-such-event'))).code).to.equal('not_found');
  });
});

describe('HeraldPublisher against a real backlog (no router draining the streams)', function () {
  this.timeout(20_000);
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const closable of opened.splice(0).reverse()) await closable.close();
  });
  // One unacknowledged event per partition is the limit, and nothing acknowledges: ingest answers 429.
  const stack = useStack({ HERALD_BACKLOG_LIMIT_HIGH: '1', HERALD_WORKER_ROLES: 'delivery' });

  /** Two accounts whose high-priority events land on different partitions. */
  function accountsOnTwoPartitions(): [string, string] {
    const partitions = stack.config.priorities.high.partitions;
    const first = 'acct-full';
    for (let n = 0; n < 100; n++) {
      const other = `acct-free-${n}`;
      if (partitionOf(other, partitions) !== partitionOf(first, partitions)) return [first, other];
    }
    throw new Error('no account on another partition');
  }

  it('gives up after maxRetries with backlog_exceeded, waiting Retry-After between tries', async () => {
    const proxy = await HttpProxy.start(stack.ingestUrl, '/v1/events/batch');
    opened.push(proxy);
    const herald = new HeraldPublisher({ url: proxy.url, serviceKey: stack.serviceKey, maxRetries: 1, backoff: { initialDelayMs: 20, maxDelayMs: 50 } });
    opened.push(herald);
    const [full] = accountsOnTwoPartitions();
    expect((await herald.send({ type: 'plan.changed', accountId: full })).status).to.equal('accepted');

    const started = Date.now();
    const error = await rejection(herald.send({ type: 'plan.changed', accountId: full }));
    expect(error).to.include({ code: 'backlog_exceeded', retryAfterMs: 1000 });
    expect(Date.now() - started).to.be.at.least(995);
    expect(proxy.requestsTo('/v1/events/batch').map((request) => request.answeredBy)).to.have.length(3);
  });

  it('resolves the accepted items of a partly refused batch and retries only the refused one', async () => {
    const proxy = await HttpProxy.start(stack.ingestUrl, '/v1/events/batch');
    opened.push(proxy);
    const herald = new HeraldPublisher({ url: proxy.url, serviceKey: stack.serviceKey, maxRetries: 1, backoff: { initialDelayMs: 20, maxDelayMs: 50 } });
    opened.push(herald);
    const [full, free] = accountsOnTwoPartitions();
    await herald.send({ type: 'plan.changed', accountId: full });

    const outcomes = await herald.sendBatch([
      { type: 'plan.changed', accountId: full, id: 'refused-1' },
      { type: 'plan.changed', accountId: free, id: 'accepted-1' },
    ]);
    expect(outcomes[1]).to.deep.equal({ ok: true, result: { id: 'accepted-1', status: 'accepted', priority: 'high' } });
    const refused = outcomes[0]!;
    if (refused.ok) throw new Error('expected a refusal');
    expect(refused.error.code).to.equal('backlog_exceeded');
    // The mixed batch, then the refused item alone after its Retry-After.
    expect(batchSizes(proxy)).to.deep.equal([1, 2, 1]);
    expect(batchIds(proxy, 2)).to.deep.equal(['refused-1']);
  });
});

describe('HeraldPublisher against an overloaded Herald (load shedding driven by the test, not the CPU)', function () {
  this.timeout(30_000);
  const CALM = { cpu: 0.1, eventLoopDelayMs: 1, redisRttMs: 0.2 };
  const signals = { current: CALM as { cpu: number; eventLoopDelayMs?: number; redisRttMs?: number }, read: () => signals.current };
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    signals.current = CALM;
    for (const closable of opened.splice(0).reverse()) await closable.close();
  });
  // A fully shed priority is told to wait 2 s; ticks of 50 ms so that shedding engages within seconds.
  const stack = useStack({ HERALD_SHEDDING: 'true', HERALD_SHED_INTERVAL_MS: '50', HERALD_SHED_MAX_RETRY_AFTER_SECONDS: '2' }, { overloadSignals: signals });

  async function shedRatio(priority: string): Promise<number> {
    const text = await (await fetch(`${stack.ingestUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`herald_overload_shed_ratio{priority="${priority}"`));
    return line === undefined ? NaN : Number(line.split(' ').pop());
  }

  it('backs off on overloaded for at least its Retry-After, then gets the shed event in once Herald recovers; a high-priority event in the same batch goes through at once', async () => {
    const proxy = await HttpProxy.start(stack.ingestUrl, '/v1/events/batch');
    opened.push(proxy);
    const retries: PublisherRetry[] = [];
    // Its own backoff is short: any longer wait comes from Retry-After.
    const herald = new HeraldPublisher({
      url: proxy.url,
      serviceKey: stack.serviceKey,
      maxRetries: 10,
      backoff: { initialDelayMs: 20, maxDelayMs: 50 },
      onRetry: (retry) => retries.push(retry),
    });
    opened.push(herald);

    signals.current = { cpu: 0.99 };
    await waitFor('low priority is fully shed', async () => (await shedRatio('low')) === 1, { timeoutMs: 15_000 });
    const started = Date.now();
    const lowSent = herald.send({ type: 'recommendations.updated', accountId: 'acct-shed', id: 'low-1' });
    const highSent = herald.send({ type: 'plan.changed', accountId: 'acct-shed', id: 'high-1' });
    expect(await highSent).to.deep.equal({ id: 'high-1', status: 'accepted', priority: 'high' });
    expect(Date.now() - started, 'high priority is never shed').to.be.below(2000);
    await waitFor('the shed event waits for its retry', () => retries.length > 0);
    expect(retries[0]!.error).to.include({ code: 'overloaded', retryAfterMs: 2000 });
    expect(retries[0]).to.deep.include({ attempt: 1, events: 1, delayMs: 2000 });

    signals.current = CALM;
    expect(await lowSent).to.deep.equal({ id: 'low-1', status: 'accepted', priority: 'low' });
    const sends = proxy.requestsTo('/v1/events/batch');
    expect(batchIds(proxy, 0)).to.have.members(['low-1', 'high-1']);
    expect(sends.slice(1).every((request) => request.body.includes('"low-1"'))).to.equal(true);
    // Every retry waited at least the Retry-After it was given (1 s at the least).
    for (let i = 1; i < sends.length; i++) expect(sends[i]!.at - sends[i - 1]!.at, `retry ${i}`).to.be.at.least(Math.min(retries[i - 1]!.delayMs, 1000) - 20);
    expect(sends[1]!.at - sends[0]!.at).to.be.at.least(1980);
  });

  it('gives up after maxRetries with overloaded while Herald stays overloaded', async () => {
    const herald = new HeraldPublisher({ url: stack.ingestUrl, serviceKey: stack.serviceKey, maxRetries: 1, backoff: { initialDelayMs: 20, maxDelayMs: 50 } });
    opened.push(herald);
    signals.current = { cpu: 0.99 };
    await waitFor('low priority is fully shed', async () => (await shedRatio('low')) === 1, { timeoutMs: 15_000 });
    const started = Date.now();
    const error = await rejection(herald.send({ type: 'recommendations.updated', accountId: 'acct-shed' }));
    expect(error).to.include({ code: 'overloaded', retryAfterMs: 2000 });
    expect(Date.now() - started).to.be.at.least(1980);
  });
});
