import { expect } from 'chai';
import { createLogger, createMetricsRegistry } from '@herald/runtime';
import { createKeys } from '@herald/redis';
import type { KeyBuilder } from '@herald/redis';
import { useTestRedis } from '@herald/testing';
import { OverloadBoard, OverloadFollower, OverloadMonitor, StreamAgeReader } from './index.js';
import type { OverloadSignals, SignalSource } from './index.js';

/** A signal source the test sets by hand. */
class DrivenSignals implements SignalSource {
  current: Partial<OverloadSignals> = { cpu: 0.1, eventLoopDelayMs: 1, redisRttMs: 0.2 };
  read(): Partial<OverloadSignals> {
    return this.current;
  }
}

const logger = createLogger({ app: 'overload-test', level: 'silent' });
const SETTINGS = {
  thresholds: { cpu: 0.8, eventLoopDelayMs: 25, redisRttMs: 5, highAgeMs: 100 },
  releaseRatio: 0.85,
  queueAgeMs: 2000,
  intervalMs: 50,
  maxRetryAfterSeconds: 5,
};
const PARTITIONS = { high: 2, medium: 2, low: 2 };

describe('load shedding through Redis', () => {
  const redis = useTestRedis();
  let keys: KeyBuilder;
  const stops: (() => Promise<void>)[] = [];
  /** The processes' clock: ticks run back to back, and the controller's cooldown counts in this time. */
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    keys = createKeys(redis.prefix);
    clock = Date.now();
  });
  /** `n` ticks of ingest, one interval of the clock apart. */
  async function ticks(ingest: OverloadMonitor, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      clock += SETTINGS.intervalMs;
      await ingest.tick();
    }
  }
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  function monitor(signals: SignalSource) {
    const created = new OverloadMonitor({
      redis: redis.client,
      keys,
      partitions: PARTITIONS,
      settings: SETTINGS,
      signals,
      logger,
      instanceId: 'i1',
      metrics: createMetricsRegistry('ingest'),
      now,
    });
    stops.push(() => created.stop());
    return created;
  }
  function follower(signals: SignalSource = new DrivenSignals(), workerId = 'w1') {
    const created = new OverloadFollower({
      redis: redis.client,
      keys,
      workerId,
      intervalMs: 50,
      maxPauseMs: 40,
      signals,
      logger,
      metrics: createMetricsRegistry('worker'),
      now,
    });
    stops.push(() => created.stop());
    return created;
  }

  it("reads how long each priority's oldest unread entry has waited, leaving out entries a router has read", async () => {
    const ages = new StreamAgeReader(redis.client, keys, PARTITIONS);
    expect(await ages.read()).to.deep.equal({ high: 0, medium: 0, low: 0 });
    const [now] = (await redis.client.time()).map(Number) as [number];
    const nowMs = now * 1000;
    // low partition 0: two entries 5 s and 3 s old, the router has read the first (on a Cluster,
    // another master than high partition 0's).
    const low = keys.stream('low', 0);
    await redis.client.xadd(low, `${nowMs - 5000}-0`, 'n', '1', 'e', '[]');
    await redis.client.xadd(low, `${nowMs - 3000}-0`, 'n', '1', 'e', '[]');
    await redis.client.xgroup('CREATE', low, keys.routerGroup, '0');
    await redis.client.xreadgroup('GROUP', keys.routerGroup, 'w', 'COUNT', 1, 'STREAMS', low, '>');
    // high partition 0: no router group yet, so its entry waits.
    await redis.client.xadd(keys.stream('high', 0), `${nowMs - 400}-0`, 'n', '1', 'e', '[]');
    const read = await ages.read();
    expect(read.low).to.be.within(3000, 4000);
    expect(read.high).to.be.within(400, 1400);
    expect(read.medium).to.equal(0);
  });

  it('engages under a driven overload: ingest publishes the level, the worker follows it and yields low priority; both release when it clears', async () => {
    const signals = new DrivenSignals();
    const ingest = monitor(signals);
    const worker = follower();
    await ingest.tick();
    await worker.tick();
    expect(ingest.state.level).to.equal(0);
    expect(worker.yieldOf('low')).to.equal(0);

    signals.current = { cpu: 0.99 };
    await ticks(ingest, 40);
    await worker.tick();
    expect(ingest.state.yield.low).to.be.above(0.9);
    expect(worker.yieldOf('low')).to.equal(ingest.state.yield.low);
    expect(worker.yieldOf('high')).to.equal(0);
    expect(worker.scaled('low', 4)).to.equal(Math.max(1, Math.round(4 * (1 - ingest.state.yield.low))));
    expect(worker.scaled('high', 4)).to.equal(4);
    const started = Date.now();
    await worker.pause('low', 'router');
    expect(Date.now() - started).to.be.at.least(30);
    await worker.tick();

    const board = await new OverloadBoard(redis.client, keys).read();
    expect(board.ingests.map((r) => r.id)).to.deep.equal(['i1']);
    expect(board.ingests[0]).to.deep.include({ level: ingest.state.level, condition: 'overloaded' });
    expect(board.workers.map((r) => r.id)).to.deep.equal(['w1']);
    expect(board.workers[0]!.pausedSeconds.low).to.be.above(0);
    expect(await redis.client.pttl(keys.overload)).to.be.above(0);

    signals.current = { cpu: 0.2 };
    await ticks(ingest, 80);
    await worker.tick();
    expect(ingest.state).to.deep.include({ level: 0, condition: 'clear' });
    expect(worker.yieldOf('low')).to.equal(0);
  });

  it("folds the workers' own signals in: a worker whose event loop lags makes ingest yield", async () => {
    const ingest = monitor(new DrivenSignals());
    const busy = new DrivenSignals();
    busy.current = { cpu: 0.3, eventLoopDelayMs: 80 };
    await follower(busy).tick();
    await ingest.tick();
    expect(ingest.inputs.signals.eventLoopDelayMs).to.equal(80);
    expect(ingest.state).to.deep.include({ condition: 'overloaded', cause: 'eventLoopDelayMs' });
    expect(ingest.state.yield.low).to.be.above(0);
  });

  it('runs every priority at full speed when no live ingest publishes a level, and prunes reports of processes gone', async () => {
    const board = new OverloadBoard(redis.client, keys);
    const report = (at: number) => ({
      role: 'ingest' as const,
      at,
      ttlMs: 1000,
      signals: { cpu: 1, eventLoopDelayMs: null, redisRttMs: null, highAgeMs: null },
      pressure: 2,
      condition: 'overloaded' as const,
      level: 1,
      yield: { low: 1, medium: 0 },
      shed: { low: 1, medium: 0 },
      queueAgeMs: { low: 0, medium: 0 },
      shedTotal: { low: 5, medium: 0 },
    });
    await board.publish('ingest:gone', report(clock - 60_000));
    await board.publish('ingest:garbled', report(clock));
    await redis.client.hset(keys.overload, 'ingest:garbled', '{"role":"ingest"');
    const worker = follower();
    await worker.tick();
    expect(worker.yieldOf('low')).to.equal(0);
    await monitor(new DrivenSignals()).tick();
    expect(Object.keys(await redis.client.hgetall(keys.overload)).sort()).to.deep.equal(['ingest:i1', 'worker:w1']);
  });

  it('answers per event from the latest decision, never refusing high priority, and counts what it refuses', async () => {
    const signals = new DrivenSignals();
    const ingest = monitor(signals);
    signals.current = { cpu: 1 };
    await ticks(ingest, 60);
    expect(ingest.state.shed.low).to.be.above(0.5);
    const decisions = Array.from({ length: 100 }, () => ingest.decide('low'));
    const refused = decisions.filter((d) => d !== undefined);
    expect(refused.length).to.equal(Math.round(100 * ingest.state.shed.low));
    expect(refused[0]!.retryAfterSeconds).to.be.within(1, 5);
    expect(Array.from({ length: 100 }, () => ingest.decide('high')).every((d) => d === undefined)).to.equal(true);
    await ingest.tick();
    const [report] = (await new OverloadBoard(redis.client, keys).read()).ingests;
    expect(report!.shedTotal.low).to.equal(refused.length);
  });
});
