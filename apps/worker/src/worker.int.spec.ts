import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import type { Platform } from '@herald/contracts';
import { LiveStream } from '@herald/live';
import { masters, scanKeys, unlinkKeys } from '@herald/redis';
import { useTestRedis, waitFor } from '@herald/testing';
import { EventTraces } from '@herald/trace';
import { SocketDeliveryJobSchema, createWorker, createWorkerDeps } from './index.js';
import type { HeraldWorker, PushOutcome, PushProvider, PushSignal, WorkerWiringOverrides } from './index.js';
import { WorkerFixture, workerConfig } from './worker.fixture.js';

class RecordingPush implements PushProvider {
  readonly name = 'recording';
  readonly sent: { platform: string; signal: PushSignal }[] = [];
  async send(platform: 'ios' | 'android', signals: readonly PushSignal[]): Promise<PushOutcome[]> {
    for (const signal of signals) this.sent.push({ platform, signal });
    return signals.map(() => ({ status: 'sent' }));
  }
}

describe('worker', function () {
  this.timeout(20_000);
  let fixture: WorkerFixture;
  const workers: HeraldWorker[] = [];
  // Registered before useTestRedis, so workers stop before the test's keys are deleted.
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await fixture.close();
  });
  const redis = useTestRedis();

  async function startWorker(env: Record<string, string> = {}, overrides: WorkerWiringOverrides = {}): Promise<HeraldWorker> {
    const worker = createWorker(createWorkerDeps(workerConfig(redis, env), redis.url, { blockMs: 100, ...overrides }));
    workers.push(worker);
    await worker.start();
    return worker;
  }

  /** A worker, the stand-in gateway and one online web device of `acct`: what it receives. */
  async function oneOnlineWebDevice() {
    fixture = new WorkerFixture(redis);
    await fixture.startSockets();
    const web = await fixture.device('acct', 'web1', 'web', { online: true });
    await startWorker();
    return web;
  }

  async function history(accountId: string) {
    return (await fixture.history.range(accountId, undefined, 10_000)).map((r) => r.entry);
  }

  async function metricValue(worker: HeraldWorker, pattern: RegExp): Promise<number> {
    const server = worker.http.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    const text = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
    server.close();
    const line = text.split('\n').find((l) => pattern.test(l));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  it('routes an event to history, pushes it to the online web and tv devices and signals the mobile ones', async () => {
    const push = new RecordingPush();
    fixture = new WorkerFixture(redis);
    await fixture.startSockets();
    const tv = await fixture.device('acct', 'tv1', 'tv', { online: true });
    const web = await fixture.device('acct', 'web1', 'web', { online: true });
    await fixture.device('acct', 'ios1', 'ios', { pushToken: 'apns-token' });
    await fixture.device('other', 'tv9', 'tv', { online: true });
    await startWorker({}, { push });
    await fixture.accept([{ id: 'evt-1', accountId: 'acct', payload: { plan: 'premium' }, profileId: 'p1' }]);

    await waitFor('the event on every transport', () => {
      expect(tv.map((n) => n.id)).to.deep.equal(['evt-1']);
      expect(web.map((n) => n.id)).to.deep.equal(['evt-1']);
      expect(push.sent).to.have.length(1);
    });
    const [entry] = await history('acct');
    expect(entry).to.deep.include({ id: 'evt-1', devices: ['tv1', 'web1', 'ios1'], profileId: 'p1' });
    const cursor = (await fixture.history.latestCursor('acct'))!;
    expect(tv[0]).to.deep.include({
      id: 'evt-1',
      cursor,
      type: 'plan.changed',
      accountId: 'acct',
      profileId: 'p1',
      priority: 'high',
      payload: { plan: 'premium' },
    });
    expect(push.sent[0]).to.deep.include({ platform: 'ios' });
    expect(push.sent[0]!.signal).to.deep.include({ accountId: 'acct', deviceId: 'ios1', pushToken: 'apns-token', cursor, eventIds: ['evt-1'] });
    expect(await history('other')).to.deep.equal([]);
    await waitFor('the backlog to drain', async () =>
      expect(await redis.client.get(fixture.keys.backlog('high', fixture.streams.partitionOf('high', 'acct')))).to.equal('0'),
    );
  });

  it('drops stale events, already-routed events and events for nobody, counting each verdict', async () => {
    fixture = new WorkerFixture(redis);
    await fixture.device('acct', 'tv1', 'tv');
    const worker = await startWorker();
    await fixture.accept([
      { id: 'stale', accountId: 'acct', type: 'recommendations.updated', priority: 'low', createdAt: Date.now() - 3_600_000 },
      { id: 'nobody', accountId: 'no-devices' },
      { id: 'ok', accountId: 'acct' },
    ]);
    await waitFor('the valid event in history', async () => expect((await history('acct')).map((e) => e.id)).to.deep.equal(['ok']));
    // The same id accepted again (e.g. after ingest's window) is dropped by the router.
    await unlinkKeys(redis.client, await scanKeys(redis.client, `${redis.prefix}:{p:high:*}:seen:*`));
    await fixture.accept([{ id: 'ok', accountId: 'acct' }]);
    await waitFor('the duplicate verdict', async () =>
      expect(await metricValue(worker, /herald_gate_outcomes_total\{priority="high",verdict="duplicate"/)).to.equal(1),
    );
    expect(await metricValue(worker, /priority="low",verdict="stale"/)).to.equal(1);
    expect(await metricValue(worker, /priority="high",verdict="no_targets"/)).to.equal(1);
    expect(await metricValue(worker, /priority="high",verdict="routed"/)).to.equal(1);
    expect((await history('acct')).map((e) => e.id)).to.deep.equal(['ok']);
  });

  it("keeps an account's events in acceptance order, and pushes only to devices online now", async () => {
    fixture = new WorkerFixture(redis);
    await fixture.startSockets();
    const online = await fixture.device('acct', 'web1', 'web', { online: true });
    await fixture.device('acct', 'tv-off', 'tv');
    await startWorker();
    const ids = Array.from({ length: 60 }, (_, i) => `e${i}`);
    for (const id of ids.slice(0, 30)) await fixture.accept([{ id, accountId: 'acct', type: 'mylist.updated', priority: 'medium' }]);
    await fixture.accept(ids.slice(30).map((id) => ({ id, accountId: 'acct', type: 'mylist.updated', priority: 'medium' })));
    await waitFor('every event pushed in order', () => expect(online.map((n) => n.id)).to.deep.equal(ids));
    const entries = await history('acct');
    expect(entries.map((e) => e.id)).to.deep.equal(ids);
    expect(entries.every((e) => e.devices.includes('tv-off'))).to.equal(true);
  });

  it('makes a batch routed again (after a crash) no second delivery job, even once its first job has left the completed set', async () => {
    const web = await oneOnlineWebDevice();
    await fixture.accept([{ id: 'once', accountId: 'acct' }]);
    await waitFor('the push', () => expect(web.map((n) => n.id)).to.deep.equal(['once']));
    await waitFor('the backlog to drain', async () =>
      expect(await redis.client.get(fixture.keys.backlog('high', fixture.streams.partitionOf('high', 'acct')))).to.equal('0'),
    );

    // As after a crash between the fan-out and the acknowledgement: the entry is routed again,
    // past the duplicate gate, and its completed job is gone (the queue keeps only a few).
    const queue = new Queue(fixture.keys.deliveryQueue('web', 'high'), { connection: fixture.connection(), prefix: fixture.keys.queuePrefix('web', 'high') });
    try {
      // Removed as the queue's retention removes jobs (queue.clean would drop its deduplication key too).
      const [completed] = await queue.getJobs(['completed']);
      await redis.client.multi().zrem(queue.keys['completed']!, completed!.id!).del(queue.toKey(completed!.id!)).exec();
      await unlinkKeys(redis.client, await scanKeys(redis.client, `${redis.prefix}:{p:high:*}:routed:*`));
      const stream = fixture.keys.stream('high', fixture.streams.partitionOf('high', 'acct'));
      await redis.client.xgroup('SETID', stream, fixture.keys.routerGroup, '0');
      await waitFor('the router group to catch up', async () =>
        expect(await redis.client.xinfo('GROUPS', stream)).to.satisfy((groups: unknown[][]) => groups[0]![groups[0]!.indexOf('lag') + 1] === 0),
      );
      // The router marks a batch routed only after its fan-out added the jobs: a second job would be in the queue now.
      await waitFor('the routed marker', async () => expect(await scanKeys(redis.client, `${redis.prefix}:{p:high:*}:routed:*`)).to.have.length.above(0));
      expect(await queue.getJobCounts('completed', 'waiting', 'delayed', 'prioritized', 'active')).to.include({
        completed: 0,
        waiting: 0,
        delayed: 0,
        prioritized: 0,
        active: 0,
      });
      expect(
        web.map((n) => n.id),
        'no second push',
      ).to.deep.equal(['once']);
      expect((await history('acct')).map((e) => e.id)).to.deep.equal(['once']);
    } finally {
      await queue.close();
    }
  });

  describe('web and tv jobs', () => {
    /** The web queue of high priority, on a connection of the test's own. */
    async function withWebQueue(use: (queue: Queue) => Promise<void>): Promise<void> {
      const queue = new Queue(fixture.keys.deliveryQueue('web', 'high'), { connection: fixture.connection(), prefix: fixture.keys.queuePrefix('web', 'high') });
      try {
        await use(queue);
      } finally {
        await queue.close();
      }
    }

    it("stage their live messages in the partition's slot and move them into its live stream once; a job run again moves nothing", async () => {
      const web = await oneOnlineWebDevice();
      await fixture.accept([{ id: 'first', accountId: 'acct', payload: { text: 'x'.repeat(2000) } }]);
      await waitFor('the first push', () => expect(web.map((n) => n.id)).to.deep.equal(['first']));
      expect(web[0]!.payload).to.deep.equal({ text: 'x'.repeat(2000) });

      await withWebQueue(async (queue) => {
        const [job] = await queue.getJobs(['completed']);
        const data = SocketDeliveryJobSchema.parse(job!.data);
        expect(data.items).to.deep.equal([{ accountId: 'acct', deviceIds: ['web1'], eventId: 'first', acceptedAt: data.items[0]!.acceptedAt }]);
        expect(data).to.include({ priority: 'high', partition: fixture.streams.partitionOf('high', 'acct') });
        expect(JSON.stringify(job!.data)).not.to.include('xxxx');
        const live = new LiveStream({ keys: fixture.keys });
        const stored = await live.read(redis.client, 'high', data.partition, '0-0', 10);
        expect(stored).to.have.length(1);
        expect(stored[0]!.message).to.include('x'.repeat(2000));
        expect(await redis.client.exists(data.staged), 'moved, not copied').to.equal(0);
        // The job once more (its worker died before completing it): nothing more on the stream or the socket.
        await queue.add('web', data, { jobId: 'again' });
        await waitFor('the job "again" to complete', async () => expect(await (await queue.getJob('again'))?.isCompleted()).to.equal(true));
        expect(await live.read(redis.client, 'high', data.partition, '0-0', 10)).to.have.length(1);
        await fixture.accept([{ id: 'marker', accountId: 'acct' }]);
        await waitFor('the marker', () => expect(web.map((n) => n.id)).to.include('marker'));
        expect(web.map((n) => n.id)).to.deep.equal(['first', 'marker']);
      });
    });
  });

  it('announces the accounts whose history grew once per batch, for long-polls', async () => {
    fixture = new WorkerFixture(redis);
    // Three accounts of one partition, so one router batch holds them all.
    const accounts = Array.from({ length: 40 }, (_, i) => `acct-${i}`)
      .filter((a) => fixture.streams.partitionOf('high', a) === 0)
      .slice(0, 3);
    for (const accountId of accounts) await fixture.device(accountId, 'ios1', 'ios');
    const subscriber = fixture.connection({ shardedSubscriber: true });
    const announced: string[][] = [];
    subscriber.on('smessage', (_channel: string, message: string) => announced.push(JSON.parse(message) as string[]));
    await subscriber.ssubscribe(fixture.keys.historyAppended('high', 0));
    await fixture.accept([...accounts, 'no-devices'].map((accountId, i) => ({ id: `e${i}`, accountId })));
    await startWorker();
    await waitFor('an announcement', () => expect(announced).to.have.length.above(0));
    // A later batch of the same partition is announced on the same channel after the first one's.
    await fixture.accept([{ id: 'marker', accountId: accounts[0]! }]);
    await waitFor('the marker batch announced', () => expect(announced.at(-1)).to.deep.equal([accounts[0]]));
    expect(announced.map((ids) => [...ids].sort())).to.deep.equal([[...accounts].sort(), [accounts[0]]]);
  });

  it("routes and delivers each priority over that priority's own Redis connections", async () => {
    const web = await oneOnlineWebDevice();
    await fixture.accept([{ id: 'h1', accountId: 'acct' }]);
    await waitFor('the push', () => expect(web.map((n) => n.id)).to.deep.equal(['h1']));
    // Every master's clients: on a Cluster, a client connects to each master it sends a command to.
    const clients = (await Promise.all(masters(redis.client).map(async (node) => (await node.client('LIST')) as string))).flatMap((list) => list.split('\n'));
    const lastCommand = (name: string) => clients.filter((line) => line.includes(` name=${name} `)).map((line) => /cmd=(\S+)/.exec(line)?.[1]);
    // Connections that only connected show their handshake (or a Cluster's slot-map refresh) as the last command.
    const handshake = ['client|setname', 'info', 'select', 'hello', 'cluster|slots', 'cluster|info'];
    const perLane = redis.topology === 'cluster' ? 3 : 1;
    expect(lastCommand('herald-worker-high'), 'the high lane routed and delivered')
      .to.have.length.within(1, perLane)
      .and.satisfy((cmds: string[]) => cmds.some((cmd) => !handshake.includes(cmd)));
    expect(lastCommand('herald-worker-low'))
      .to.have.length.within(1, perLane)
      .and.satisfy((cmds: string[]) => cmds.every((cmd) => handshake.includes(cmd)));
    expect(lastCommand('herald-worker-medium'))
      .to.have.length.within(1, perLane)
      .and.satisfy((cmds: string[]) => cmds.every((cmd) => handshake.includes(cmd)));
    expect(lastCommand('herald-worker-bullmq-high')).to.have.length.within(1, perLane);
  });

  it('never lets a failing push provider block web and tv: ios jobs are retried, then kept as failed', async () => {
    let calls = 0;
    const webhook = createServer((_req, res) => {
      calls++;
      res.writeHead(503).end();
    }).listen(0);
    await new Promise((resolve) => webhook.once('listening', resolve));
    const url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/push`;
    const env = { HERALD_PUSH_PROVIDER: 'webhook', HERALD_PUSH_WEBHOOK_URL: url, HERALD_DELIVERY_ATTEMPTS: '2' };
    fixture = new WorkerFixture(redis, env);
    await fixture.startSockets();
    const tv = await fixture.device('acct', 'tv1', 'tv', { online: true });
    const web = await fixture.device('acct', 'web1', 'web', { online: true });
    await fixture.device('acct', 'ios1', 'ios', { pushToken: 'ios1-token' });
    await startWorker(env);
    await fixture.accept([{ id: 'e1', accountId: 'acct' }]);
    await waitFor('the TV and web pushes', () => {
      expect(tv).to.have.length(1);
      expect(web).to.have.length(1);
    });
    const ios = new Queue(fixture.keys.deliveryQueue('ios' satisfies Platform, 'high'), {
      connection: fixture.connection(),
      prefix: fixture.keys.queuePrefix('ios' satisfies Platform, 'high'),
    });
    await waitFor('the iOS job to fail', async () => expect(await ios.getFailedCount()).to.equal(1), { timeoutMs: 10_000 });
    const [failed] = await ios.getFailed();
    expect(failed?.attemptsMade).to.equal(2);
    expect(failed?.failedReason).to.match(/503/);
    expect(calls).to.equal(2);
    // The event's trace shows what reached the sockets and what failed for good.
    const traces = new EventTraces({
      redis: redis.client,
      keys: fixture.keys,
      partitions: { high: 2, medium: 2, low: 2 },
      windowMs: 3_600_000,
      dedupWindowMs: 3_600_000,
    });
    const trace = await traces.read('e1');
    expect(trace?.pushes.map((p) => p.deviceId)).to.have.members(['tv1', 'web1']);
    expect(trace?.failures).to.have.length(1);
    expect(trace?.failures[0]).to.include({ platform: 'ios' });
    expect(trace?.failures[0]?.error).to.match(/503/);
    await ios.close();
    webhook.close();
  });

  it('dead-letters an entry that keeps failing, and re-drives it once fixed', async () => {
    fixture = new WorkerFixture(redis, { HERALD_WORKER_MAX_DELIVERIES: '2' });
    const env = { HERALD_WORKER_MAX_DELIVERIES: '2' };
    // A corrupt device record makes routing this account throw.
    await redis.client.hset(fixture.keys.devices('broken'), 'd1', '{not json');
    await fixture.device('fine', 'tv1', 'tv');
    const worker = await startWorker(env);
    await fixture.accept([{ id: 'poison', accountId: 'broken' }]);
    await fixture.accept([{ id: 'fine-1', accountId: 'fine' }]);
    await waitFor("the fine account's event in history", async () => expect((await history('fine')).map((e) => e.id)).to.deep.equal(['fine-1']));

    const server = worker.http.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const auth = { authorization: 'Bearer dev-service-key' };
    type Listed = { deadLetters: { priority: string; partition: number; id: string; reason: string; events: { id: string }[] }[] };
    let listed: Listed = { deadLetters: [] };
    await waitFor(
      'one dead letter',
      async () => {
        listed = (await (await fetch(`${base}/v1/dead-letters?priority=high`, { headers: auth })).json()) as Listed;
        expect(listed.deadLetters).to.have.length(1);
      },
      { timeoutMs: 8000 },
    );
    const [dead] = listed.deadLetters;
    expect(dead!.reason).to.match(/delivered 2 times/);
    expect(dead!.events.map((e) => e.id)).to.deep.equal(['poison']);
    expect(await redis.client.get(fixture.keys.backlog('high', dead!.partition))).to.equal('0');

    await redis.client.del(fixture.keys.devices('broken'));
    await fixture.device('broken', 'web1', 'web');
    const redrive = `${base}/v1/dead-letters/high/${dead!.partition}/${dead!.id}/redrive`;
    expect((await fetch(redrive, { method: 'POST', headers: auth })).status).to.equal(202);
    expect((await fetch(redrive, { method: 'POST', headers: auth })).status).to.equal(404);
    expect((await fetch(`${base}/v1/dead-letters`, {})).status).to.equal(401);
    expect((await fetch(`${base}/v1/dead-letters?priority=urgent`, { headers: auth })).status).to.equal(400);
    await waitFor('the replayed event in history', async () => expect((await history('broken')).map((e) => e.id)).to.deep.equal(['poison']));
    server.close();
  });

  it('dead-letters an entry it cannot decode', async () => {
    fixture = new WorkerFixture(redis);
    await startWorker();
    await redis.client.xadd(fixture.keys.stream('low', 0), '*', 'n', '1', 'e', 'not json');
    await redis.client.incrby(fixture.keys.backlog('low', 0), 1);
    await waitFor("the malformed entry's dead letter", async () => expect(await redis.client.xlen(fixture.keys.deadLetters('low', 0))).to.equal(1));
    const [[, fields]] = (await redis.client.xrange(fixture.keys.deadLetters('low', 0), '-', '+')) as [[string, string[]]];
    expect(fields[fields.indexOf('reason') + 1]).to.match(/malformed/);
    expect(await redis.client.get(fixture.keys.backlog('low', 0))).to.equal('0');
  });

  it('reclaims entries left pending by a consumer that died', async () => {
    fixture = new WorkerFixture(redis, { HERALD_PARTITIONS_HIGH: '1' });
    await fixture.device('acct', 'tv1', 'tv');
    await fixture.accept([{ id: 'orphan', accountId: 'acct' }]);
    const stream = fixture.keys.stream('high', 0);
    await redis.client.xgroup('CREATE', stream, 'router', '0', 'MKSTREAM');
    await redis.client.xreadgroup('GROUP', 'router', 'dead-consumer', 'COUNT', 10, 'STREAMS', stream, '>');
    await startWorker({ HERALD_PARTITIONS_HIGH: '1' });
    await waitFor('the orphan in history', async () => expect((await history('acct')).map((e) => e.id)).to.deep.equal(['orphan']));
    await waitFor('no pending entries', async () => expect(((await redis.client.xpending(stream, 'router')) as [number])[0]).to.equal(0));
  });

  it('shares the partitions between workers and takes over those of a worker that stops', async () => {
    const env = { HERALD_PARTITIONS_HIGH: '4', HERALD_WORKER_PRIORITIES: 'high' };
    fixture = new WorkerFixture(redis, env);
    const leases = async () => Promise.all([0, 1, 2, 3].map(async (p) => (await redis.client.get(fixture.keys.lease('high', p))) ?? 'none'));
    const a = await startWorker(env, { workerId: 'worker-a' });
    await waitFor('worker-a to hold every lease', async () => expect(new Set(await leases())).to.deep.equal(new Set(['worker-a'])));
    await startWorker(env, { workerId: 'worker-b' });
    await waitFor('the leases to be shared', async () => {
      const holders = await leases();
      expect(holders.filter((h) => h === 'worker-a')).to.have.length(2);
      expect(holders.filter((h) => h === 'worker-b')).to.have.length(2);
    });
    await a.stop();
    workers.splice(workers.indexOf(a), 1);
    await waitFor('worker-b to hold every lease', async () => expect(await leases()).to.deep.equal(['worker-b', 'worker-b', 'worker-b', 'worker-b']));
  });

  it('routes every partition of a priority even when they outnumber its concurrency', async () => {
    const env = { HERALD_PARTITIONS_LOW: '4', HERALD_WORKER_CONCURRENCY_LOW: '1' };
    fixture = new WorkerFixture(redis, env);
    const accounts = Array.from({ length: 40 }, (_, i) => `acct-${i}`);
    for (const accountId of accounts) await fixture.device(accountId, 'tv', 'tv');
    expect(new Set(accounts.map((a) => fixture.streams.partitionOf('low', a))).size).to.equal(4);
    await startWorker(env);
    await fixture.accept(accounts.map((accountId) => ({ id: `r-${accountId}`, accountId, type: 'recommendations.updated', priority: 'low' })));
    await waitFor("one event in each account's history", async () => {
      for (const accountId of accounts)
        expect(
          (await history(accountId)).map((e) => e.id),
          accountId,
        ).to.deep.equal([`r-${accountId}`]);
    });
  });

  it('stops gracefully: gives its leases back and leaves the live set', async () => {
    fixture = new WorkerFixture(redis);
    const worker = await startWorker({}, { workerId: 'leaving' });
    await waitFor('the lease to be marked leaving', async () => expect(await redis.client.get(fixture.keys.lease('high', 0))).to.equal('leaving'));
    await worker.stop();
    workers.splice(workers.indexOf(worker), 1);
    expect(await redis.client.get(fixture.keys.lease('high', 0))).to.equal(null);
    expect(await redis.client.zscore(fixture.keys.routers('high'), 'leaving')).to.equal(null);
  });
});
