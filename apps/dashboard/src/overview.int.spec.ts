import { expect } from 'chai';
import { OverloadBoard } from '@herald/overload';
import type { IngestReport } from '@herald/overload';
import { OverviewSchema } from './index.js';
import type { Overview } from './index.js';
import { acceptedEvent, useDashboard } from './dashboard.fixture.js';
import type { RunningDashboard } from './dashboard.fixture.js';

describe('dashboard overview (/admin/api/overview)', () => {
  const dashboard = useDashboard();

  /** The overview as the page gets it, checked against its schema. */
  async function overview(running: RunningDashboard): Promise<Overview> {
    const res = await running.request('/admin/api/overview');
    expect(res.status).to.equal(200);
    return OverviewSchema.parse(await res.json());
  }
  const priority = (o: Overview, name: string) => o.priorities.find((p) => p.priority === name)!;
  const queue = (o: Overview, name: string) => o.queues.find((q) => q.name === name)!;
  const platform = (o: Overview, name: string) => o.platforms.find((p) => p.platform === name)!;

  it('reports stream length, lag, pending entries, the oldest pending age and the backlog per priority', async () => {
    const running = await dashboard.start();
    const { keys } = running;
    const streams = dashboard.streams();
    // Three high entries (four events) in one partition, one medium entry.
    await streams.append([acceptedEvent('h1', 'acct-a')]);
    await streams.append([acceptedEvent('h2', 'acct-a')]);
    await streams.append([acceptedEvent('h3', 'acct-a'), acceptedEvent('h4', 'acct-a')]);
    await streams.append([acceptedEvent('m1', 'acct-b', 'medium')]);
    // The router read one high entry and has not acknowledged it.
    const high = keys.stream('high', streams.partitionOf('high', 'acct-a'));
    await dashboard.redis.client.xgroup('CREATE', high, keys.routerGroup, '0');
    await dashboard.redis.client.xreadgroup('GROUP', keys.routerGroup, 'worker-1', 'COUNT', 1, 'STREAMS', high, '>');
    // A low entry appended 90 s ago, read and pending since.
    const low = keys.stream('low', 1);
    const ninetySecondsAgo = (await dashboard.redisNow()) - 90_000;
    await dashboard.redis.client.xadd(low, `${ninetySecondsAgo}-0`, 'n', '1', 'e', '[]');
    await dashboard.redis.client.xgroup('CREATE', low, keys.routerGroup, '0');
    await dashboard.redis.client.xreadgroup('GROUP', keys.routerGroup, 'worker-1', 'STREAMS', low, '>');

    const o = await overview(running);
    expect(priority(o, 'high')).to.include({ partitions: 2, streamLength: 3, lag: 2, pending: 1, backlog: 4 });
    expect(priority(o, 'high').oldestPendingAgeSeconds).to.be.within(0, 5);
    // No consumer group yet: every entry waits for the router.
    expect(priority(o, 'medium')).to.include({ streamLength: 1, lag: 1, pending: 0, oldestPendingAgeSeconds: null, backlog: 1 });
    expect(priority(o, 'low')).to.include({ streamLength: 1, lag: 0, pending: 1, backlog: 0 });
    expect(priority(o, 'low').oldestPendingAgeSeconds).to.be.within(90, 92);
    expect(new Date(o.at).getTime()).to.be.closeTo(await dashboard.redisNow(), 2000);
  });

  it('computes events in and out per second from the counters between two reads', async () => {
    const running = await dashboard.start();
    const { keys } = running;
    const first = await overview(running);
    expect(first.rateWindowSeconds).to.equal(null);
    expect(priority(first, 'high')).to.include({ inPerSecond: null, outPerSecond: null });

    await dashboard.redis.client.incrby(keys.acceptedTotal('high', 0), 30);
    await dashboard.redis.client.incrby(keys.acceptedTotal('high', 1), 10);
    await dashboard.redis.client.incrby(keys.routedTotal('high', 1), 20);
    await dashboard.redis.client.incrby(keys.acceptedTotal('low', 0), 5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await overview(running);
    const window = second.rateWindowSeconds!;
    expect(window).to.be.within(0.15, 2);
    expect(priority(second, 'high').inPerSecond! * window).to.be.closeTo(40, 1e-6);
    expect(priority(second, 'high').outPerSecond! * window).to.be.closeTo(20, 1e-6);
    expect(priority(second, 'low').inPerSecond! * window).to.be.closeTo(5, 1e-6);
    expect(priority(second, 'medium')).to.include({ inPerSecond: 0, outPerSecond: 0 });
  });

  it('counts accepted events ingest appends in the in-rate', async () => {
    const running = await dashboard.start();
    await overview(running);
    await dashboard
      .streams()
      .append([acceptedEvent('e1', 'acct-a', 'medium'), acceptedEvent('e2', 'acct-b', 'medium'), acceptedEvent('e3', 'acct-c', 'medium')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const o = await overview(running);
    expect(priority(o, 'medium').inPerSecond! * o.rateWindowSeconds!).to.be.closeTo(3, 1e-6);
  });

  it("reports each delivery queue's depth and failure rate, and each platform's over all priorities", async () => {
    const running = await dashboard.start();
    const web = dashboard.queue('web', 'high');
    await web.add('deliver', { items: [] });
    await web.add('deliver', { items: [] });
    await dashboard.queue('tv', 'medium').add('deliver', { items: [] }, { delay: 60_000 });
    const android = dashboard.queue('android', 'low');
    const androidHigh = dashboard.queue('android', 'high');
    const before = await overview(running);
    expect(before.queues).to.have.length(12);
    expect(queue(before, 'deliver-web-high')).to.include({ platform: 'web', priority: 'high', waiting: 2, depth: 2, failed: 0, failureRate: null });
    expect(queue(before, 'deliver-tv-medium')).to.include({ delayed: 1, depth: 1 });

    await android.addBulk([
      { name: 'deliver', data: { fail: true } },
      { name: 'deliver', data: {} },
      { name: 'deliver', data: {} },
    ]);
    await dashboard.runJobs('android', 'low', 3);
    await androidHigh.add('deliver', { fail: true });
    await dashboard.runJobs('android', 'high', 1);
    const after = await overview(running);
    expect(queue(after, 'deliver-android-low')).to.include({ depth: 0, completed: 2, failed: 1 });
    expect(queue(after, 'deliver-android-low').failureRate).to.be.closeTo(1 / 3, 1e-9);
    expect(queue(after, 'deliver-android-high').failureRate).to.equal(1);
    expect(queue(after, 'deliver-web-high').failureRate).to.equal(null);
    expect(platform(after, 'android')).to.include({ depth: 0, failed: 2, failureRate: 0.5 });
    expect(platform(after, 'web')).to.include({ depth: 2, failureRate: null });
    expect(platform(after, 'tv')).to.include({ depth: 1 });
  });

  it('keeps the failure rate right when finished jobs leave their sets (as they do after an hour)', async () => {
    const running = await dashboard.start();
    await overview(running);
    const ios = dashboard.queue('ios', 'medium');
    const gone = { removeOnComplete: true, removeOnFail: true };
    await ios.addBulk([
      { name: 'deliver', data: { fail: true }, opts: gone },
      { name: 'deliver', data: {}, opts: gone },
      { name: 'deliver', data: {}, opts: gone },
      { name: 'deliver', data: {}, opts: gone },
    ]);
    await dashboard.runJobs('ios', 'medium', 4);
    const after = await overview(running);
    expect(queue(after, 'deliver-ios-medium')).to.include({ completed: 0, failed: 0 });
    expect(queue(after, 'deliver-ios-medium').failureRate).to.be.closeTo(1 / 4, 1e-9);
  });

  it('sums devices online over live gateway nodes, ignoring stale and malformed entries', async () => {
    const running = await dashboard.start();
    const now = await dashboard.redisNow();
    await dashboard.redis.client.hset(
      running.keys.gatewayNodes,
      'node-a',
      JSON.stringify({ connections: 5, devices: 4, at: now - 1000 }),
      'node-b',
      JSON.stringify({ connections: 3, devices: 3, at: now }),
      'node-gone',
      JSON.stringify({ connections: 100, devices: 90, at: now - 31_000 }),
      'node-garbage',
      'not json',
      'node-bad',
      JSON.stringify({ connections: -1, devices: 'many', at: now }),
    );
    const o = await overview(running);
    expect(o.gateway.devicesOnline).to.equal(7);
    expect(o.gateway.connections).to.equal(8);
    expect(o.gateway.nodes.map((n) => n.nodeId)).to.deep.equal(['node-a', 'node-b']);
    expect(o.gateway.nodes[1]).to.deep.equal({ nodeId: 'node-b', connections: 3, devices: 3, at: new Date(now).toISOString() });
  });

  it('counts dead letters per priority and lists the newest five with their reasons', async () => {
    const running = await dashboard.start();
    const { keys } = running;
    const { client } = dashboard.redis;
    // Dead letters a millisecond apart (ids of different streams in one millisecond do not order).
    const t = (await dashboard.redisNow()) - 1000;
    for (let i = 0; i < 4; i++)
      await client.xadd(keys.deadLetters('high', 0), `${t + i}-0`, 'entry', `100-${i}`, 'reason', `delivered 5 times (${i})`, 'n', '2', 'e', '[]');
    await client.xadd(keys.deadLetters('high', 1), `${t + 10}-0`, 'entry', '200-0', 'reason', 'undecodable entry', 'n', 'x');
    await client.xadd(keys.deadLetters('high', 1), `${t + 11}-0`, 'entry', '200-1', 'reason', 'newest of all', 'n', '7', 'e', '[]');
    await client.xadd(keys.deadLetters('low', 0), '*', 'entry', '300-0', 'reason', 'low one');

    const o = await overview(running);
    const high = priority(o, 'high').deadLetters;
    expect(high.count).to.equal(6);
    expect(high.newest.map((d) => d.reason)).to.deep.equal([
      'newest of all',
      'undecodable entry',
      'delivered 5 times (3)',
      'delivered 5 times (2)',
      'delivered 5 times (1)',
    ]);
    expect(high.newest[0]).to.include({ partition: 1, entry: '200-1', events: 7, at: new Date(t + 11).toISOString() });
    expect(high.newest[1]).to.include({ events: null });
    expect(priority(o, 'medium').deadLetters).to.deep.equal({ count: 0, newest: [] });
    expect(priority(o, 'low').deadLetters.newest.map((d) => [d.entry, d.reason, d.events])).to.deep.equal([['300-0', 'low one', null]]);
  });

  it('shows load shedding as the live ingests publish it: the level, its signals, what each priority is shed and yields, the shed rate and who reports', async () => {
    const running = await dashboard.start();
    const idle = await overview(running);
    expect(idle.overload).to.deep.include({ active: false, level: 0, pressure: null, condition: null });
    expect(idle.overload.priorities.map((p) => [p.priority, p.shed, p.yield])).to.deep.equal([
      ['high', 0, 0],
      ['medium', 0, 0],
      ['low', 0, 0],
    ]);

    const board = new OverloadBoard(dashboard.redis.client, running.keys);
    const ingest = (shedTotal: number): IngestReport => ({
      role: 'ingest',
      at: Date.now(),
      ttlMs: 60_000,
      signals: { cpu: 0.93, eventLoopDelayMs: 31, redisRttMs: 2.5, highAgeMs: 0 },
      pressure: 1.24,
      condition: 'overloaded',
      level: 1.25,
      yield: { low: 1, medium: 0.25 },
      shed: { low: 0.4375, medium: 0 },
      queueAgeMs: { low: 2500, medium: 0 },
      shedTotal: { low: shedTotal, medium: 0 },
    });
    await board.publish('ingest:a', ingest(100));
    await board.publish('worker:w', {
      role: 'worker',
      at: Date.now(),
      ttlMs: 60_000,
      signals: { cpu: 0.93, eventLoopDelayMs: 12 },
      yield: { low: 1, medium: 0.25 },
      pausedSeconds: { low: 3, medium: 0 },
    });
    await board.publish('ingest:gone', { ...ingest(7), at: Date.now() - 120_000, ttlMs: 1000 });
    await overview(running);
    await board.publish('ingest:a', ingest(160));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const o = await overview(running);
    expect(o.overload).to.deep.include({ active: true, level: 1.25, pressure: 1.24, condition: 'overloaded' });
    expect(o.overload.signals).to.deep.equal({ cpu: 0.93, eventLoopDelayMs: 31, redisRttMs: 2.5, highAgeMs: 0 });
    const [high, medium, low] = o.overload.priorities;
    expect(high).to.deep.include({ priority: 'high', shed: 0, yield: 0, shedPerSecond: 0 });
    expect(medium).to.deep.include({ priority: 'medium', shed: 0, yield: 0.25 });
    expect(low).to.deep.include({ priority: 'low', shed: 0.4375, yield: 1, queueAgeSeconds: 2.5 });
    expect(low!.shedPerSecond! * o.rateWindowSeconds!).to.be.closeTo(60, 1e-6);
    expect(o.overload.reporters.map((r) => [r.id, r.role, r.eventLoopDelayMs])).to.deep.equal([
      ['a', 'ingest', 31],
      ['w', 'worker', 12],
    ]);
  });

  it('says whether the queue board is read-only', async () => {
    expect((await overview(await dashboard.start())).readOnly).to.equal(true);
    expect((await overview(await dashboard.start({ HERALD_DASHBOARD_READ_ONLY: 'false' }))).readOnly).to.equal(false);
  });

  it('serves the overview page, whose only script (by CSP nonce) polls the API', async () => {
    const res = await (await dashboard.start()).request('/admin');
    expect(res.status).to.equal(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).to.be.a('string');
    const html = await res.text();
    expect(html).to.contain(`<script nonce="${nonce}">`);
    expect(html).to.contain("fetch(api('/admin/api/overview')");
    expect(html).to.contain('href="/admin/queues"');
    expect(html).to.contain('href="/admin/tap"');
  });

  it('builds its API URLs on location.origin, never against a page address with credentials in it (regression: opened as http://admin:admin@host/admin, fetch refused every request)', async () => {
    for (const page of ['/admin', '/admin/tap']) {
      const html = await (await (await dashboard.start()).request(page)).text();
      expect(html, page).to.contain('function api(path) { return location.origin + path; }');
      // Every fetch and EventSource goes through api().
      expect(html.match(/(?:fetch|new EventSource)\((?!api\()/g), page).to.equal(null);
    }
  });
});
