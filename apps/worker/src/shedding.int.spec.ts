import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { OverloadBoard } from '@herald/overload';
import type { IngestReport } from '@herald/overload';
import { useTestRedis, waitFor } from '@herald/testing';
import { createWorker, createWorkerDeps } from './index.js';
import type { HeraldWorker } from './index.js';
import { WorkerFixture, workerConfig } from './worker.fixture.js';

/** What ingest would publish at a given yield of the low priority (the level is driven here, not the CPU). */
function ingestReport(lowYield: number): IngestReport {
  return {
    role: 'ingest',
    at: Date.now(),
    ttlMs: 60_000,
    signals: { cpu: lowYield > 0 ? 0.99 : 0.1, eventLoopDelayMs: null, redisRttMs: null, highAgeMs: null },
    pressure: lowYield > 0 ? 1.2 : 0.1,
    condition: lowYield > 0 ? 'overloaded' : 'clear',
    level: lowYield,
    yield: { low: lowYield, medium: 0 },
    shed: { low: 0, medium: 0 },
    queueAgeMs: { low: 0, medium: 0 },
    shedTotal: { low: 0, medium: 0 },
  };
}

describe('worker under load shedding (the level driven through Redis)', function () {
  this.timeout(30_000);
  let fixture: WorkerFixture;
  let worker: HeraldWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await fixture.close();
  });
  const redis = useTestRedis();

  const ENV = { HERALD_SHED_INTERVAL_MS: '50', HERALD_SHED_MAX_PAUSE_MS: '200', HERALD_WORKER_BATCH_LOW: '4' };

  async function metric(pattern: RegExp): Promise<number> {
    const server = worker!.http.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    const text = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
    server.close();
    const line = text.split('\n').find((l) => pattern.test(l));
    return line === undefined ? NaN : Number(line.split(' ').pop());
  }

  async function routed(accountId: string): Promise<string[]> {
    return (await fixture.history.range(accountId, undefined, 10_000)).map((r) => r.entry.id);
  }

  /** `n` low-priority events of one account, each in a stream entry of its own. */
  async function lowEntries(prefix: string, n: number): Promise<void> {
    for (let i = 0; i < n; i++) await fixture.accept([{ id: `${prefix}-${i}`, accountId: 'acct', type: 'recommendations.updated', priority: 'low' }]);
  }

  it('yields low priority while ingest says so (one entry per batch, a pause before each, deliveries paused too), keeps high priority at full speed, and recovers when the level clears', async () => {
    fixture = new WorkerFixture(redis, ENV);
    await fixture.startSockets();
    const web = await fixture.device('acct', 'web1', 'web', { online: true });
    const board = new OverloadBoard(redis.client, fixture.keys);
    await board.publish('ingest:test', ingestReport(1));
    worker = createWorker(createWorkerDeps(workerConfig(redis, ENV), redis.url, { blockMs: 100 }));
    await worker.start();
    await waitFor('low priority to yield', async () => expect(await metric(/^herald_overload_yield_ratio\{priority="low"/)).to.equal(1));
    expect(await metric(/^herald_overload_yield_ratio\{priority="high"/)).to.equal(0);

    // Ten low entries in one partition: one per read, 200 ms before each read.
    const started = Date.now();
    await lowEntries('slow', 10);
    await fixture.accept([{ id: 'urgent', accountId: 'acct' }]);
    await waitFor('the urgent event to be routed', async () => expect(await routed('acct')).to.include('urgent'), { timeoutMs: 2000 });
    const highAfter = Date.now() - started;
    await waitFor('the ten slow events to be routed', async () => expect((await routed('acct')).filter((id) => id.startsWith('slow-'))).to.have.length(10), {
      timeoutMs: 15_000,
    });
    const lowAfter = Date.now() - started;
    expect(lowAfter, 'ten reads, each after a 200 ms pause').to.be.at.least(1800);
    expect(highAfter, 'high priority does not wait for the yielding low priority').to.be.below(lowAfter);
    expect(await metric(/^herald_overload_paused_seconds_total\{priority="low",stage="router"/)).to.be.at.least(1.8);
    await waitFor('the urgent and the last slow push', async () => expect(web.map((n) => n.id)).to.include.members(['urgent', 'slow-9']));
    expect(await metric(/^herald_overload_paused_seconds_total\{priority="low",stage="delivery"/)).to.be.above(0);
    expect(Number.isNaN(await metric(/^herald_overload_paused_seconds_total\{priority="high"/)), 'high priority never pauses').to.equal(true);

    // The level clears: the worker goes back to full speed by itself.
    await board.publish('ingest:test', ingestReport(0));
    await waitFor('low priority to stop yielding', async () => expect(await metric(/^herald_overload_yield_ratio\{priority="low"/)).to.equal(0));
    // A pause begun before the level cleared still ends (and counts): let those finish.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const pausedBefore = await metric(/^herald_overload_paused_seconds_total\{priority="low",stage="router"/);
    const resumed = Date.now();
    await lowEntries('fast', 10);
    await waitFor('the ten fast events to be routed', async () => expect((await routed('acct')).filter((id) => id.startsWith('fast-'))).to.have.length(10), {
      timeoutMs: 15_000,
    });
    expect(Date.now() - resumed).to.be.below(1500);
    expect(await metric(/^herald_overload_paused_seconds_total\{priority="low",stage="router"/)).to.equal(pausedBefore);
  });

  it('runs at full speed when no live ingest publishes a level (ingest down, or shedding off there)', async () => {
    fixture = new WorkerFixture(redis, ENV);
    await fixture.device('acct', 'tv1', 'tv');
    const board = new OverloadBoard(redis.client, fixture.keys);
    await board.publish('ingest:gone', { ...ingestReport(1), at: Date.now() - 120_000 });
    worker = createWorker(createWorkerDeps(workerConfig(redis, ENV), redis.url, { blockMs: 100 }));
    await worker.start();
    await waitFor('low priority not to yield', async () => expect(await metric(/^herald_overload_yield_ratio\{priority="low"/)).to.equal(0));
    const started = Date.now();
    await lowEntries('free', 10);
    await waitFor('the ten free events to be routed', async () => expect((await routed('acct')).filter((id) => id.startsWith('free-'))).to.have.length(10), {
      timeoutMs: 15_000,
    });
    expect(Date.now() - started).to.be.below(1500);
  });
});
