import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { loadConfig } from '@herald/config';
import type { OverloadSignals, SignalSource } from '@herald/overload';
import { scanKeys } from '@herald/redis';
import { useTestRedis, waitFor } from '@herald/testing';
import { createIngestApp, createIngestDeps } from './index.js';
import type { IngestDeps } from './index.js';

const KEY = 'dev-service-key';

/** The overload signals, set by the test: shedding is driven through them, not by loading the CPU. */
class DrivenSignals implements SignalSource {
  current: Partial<OverloadSignals> = { cpu: 0.1, eventLoopDelayMs: 1, redisRttMs: 0.2 };
  read(): Partial<OverloadSignals> {
    return this.current;
  }
}
/** Over the CPU threshold (0.8): overloaded. */
const OVERLOADED = { cpu: 0.99 };
/** Between the release ratio (0.85 × 0.8 = 0.68) and the threshold: everything holds still. */
const HOLDING = { cpu: 0.75 };
const CLEAR = { cpu: 0.1 };

const low = (n: number) => ({ id: `low-${n}`, type: 'recommendations.updated', accountId: `acct-${n % 3}` });
const high = (n: number) => ({ id: `high-${n}`, type: 'plan.changed', accountId: `acct-${n % 3}` });
const medium = (n: number) => ({ id: `medium-${n}`, type: 'mylist.updated', accountId: `acct-${n % 3}` });

type ItemResult = { index: number; id?: string; status?: string; error?: { code: string; message: string; retryAfterSeconds?: number } };

describe('ingest under load shedding (signals driven by the test)', function () {
  this.timeout(30_000);
  const redis = useTestRedis();
  let server: Server;
  let base: string;
  let deps: IngestDeps;
  let signals: DrivenSignals;

  beforeEach(async () => {
    signals = new DrivenSignals();
    // Ticks of 50 ms (cuts at most every 100 ms) so that a full engagement takes about two seconds.
    const config = loadConfig({ HERALD_KEY_PREFIX: redis.prefix, HERALD_LOG_LEVEL: 'silent', HERALD_SHED_INTERVAL_MS: '50' }, 'ingest');
    deps = createIngestDeps(config, redis.client, {}, undefined, { overloadSignals: signals });
    server = createIngestApp(deps).listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await deps.overload?.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** Polls until `check` passes (the monitor ticks every 50 ms on its own); a timeout shows the controller's state. */
  const until = (what: string, check: () => boolean) =>
    waitFor(
      what,
      () => {
        if (!check()) throw new Error(`overload state ${JSON.stringify(deps.overload?.state)}`);
      },
      { timeoutMs: 15_000 },
    );
  const state = () => deps.overload!.state;

  /** Every event id written to the priority streams of this test. */
  async function written(): Promise<string[]> {
    const keys = await scanKeys(redis.client, `${redis.prefix}:{p:*}:events`);
    const entries = (await Promise.all(keys.map((key) => redis.client.xrange(key, '-', '+')))).flat();
    return entries.flatMap(([, fields]) => (JSON.parse(fields[3]!) as { id: string }[]).map((event) => event.id)).sort();
  }

  async function metric(pattern: RegExp): Promise<number> {
    const line = (await (await fetch(`${base}/metrics`)).text()).split('\n').find((l) => pattern.test(l));
    return line === undefined ? NaN : Number(line.split(' ').pop());
  }

  it('accepts everything while the signals are calm', async () => {
    await until('the first tick', () => state().condition === 'clear');
    expect((await post('/v1/events', low(1))).status).to.equal(202);
    expect(state()).to.deep.include({ level: 0 });
  });

  it('refuses a shed low-priority event with 429 overloaded and Retry-After, before writing anything, and never a high-priority one', async () => {
    signals.current = OVERLOADED;
    await until('low priority is fully shed', () => state().shed.low === 1);

    const refused = await post('/v1/events', low(1));
    expect(refused.status).to.equal(429);
    expect(refused.headers.get('retry-after')).to.equal('5');
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).to.equal('overloaded');
    expect(error.message).to.match(/overloaded.*low-priority.*Retry after 5 s/);

    for (let n = 0; n < 20; n++) {
      const accepted = await post('/v1/events', high(n));
      expect(accepted.status, 'high priority is never shed').to.equal(202);
    }
    expect(await written()).to.deep.equal(Array.from({ length: 20 }, (_, n) => `high-${n}`).sort());
    expect(await metric(/^herald_shed_events_total\{priority="low",stage="ingest"/)).to.equal(1);
    expect(await metric(/^herald_overload_shed_ratio\{priority="high"/)).to.equal(0);
    expect(await metric(/^herald_overload_shed_ratio\{priority="low"/)).to.equal(1);
    expect(await metric(/^herald_overload_signal\{signal="cpu_busy_ratio"/)).to.equal(0.99);
  });

  it('reports shed items of a batch per item with their Retry-After, accepts the rest, and answers 429 only when every item was shed', async () => {
    signals.current = OVERLOADED;
    await until('low priority is fully shed', () => state().shed.low === 1);
    // Medium is not shed before low is: hold here.
    signals.current = HOLDING;
    expect(state().shed.medium).to.equal(0);

    const mixed = await post('/v1/events/batch', { events: [low(1), high(1), medium(1), { type: 'recommendations.updated' }, low(2)] });
    expect(mixed.status).to.equal(202);
    expect(mixed.headers.get('retry-after')).to.equal('5');
    const { results } = (await mixed.json()) as { results: ItemResult[] };
    expect(results.map((r) => r.error?.code ?? r.status)).to.deep.equal(['overloaded', 'accepted', 'accepted', 'overloaded', 'overloaded']);
    expect(results[0]!.error).to.deep.include({ code: 'overloaded', retryAfterSeconds: 5 });
    expect(results[0]!.index).to.equal(0);
    expect(await written()).to.deep.equal(['high-1', 'medium-1']);

    const allShed = await post('/v1/events/batch', { events: [low(3), low(4)] });
    expect(allShed.status).to.equal(429);
    expect(allShed.headers.get('retry-after')).to.equal('5');
    const body = (await allShed.json()) as { results: ItemResult[] };
    expect(body.results.map((r) => [r.index, r.error?.code])).to.deep.equal([
      [0, 'overloaded'],
      [1, 'overloaded'],
    ]);
    expect(await written()).to.deep.equal(['high-1', 'medium-1']);
  });

  it('sheds progressively: a partial level refuses that fraction of the low-priority events, evenly, with a shorter Retry-After', async () => {
    signals.current = OVERLOADED;
    await until('low priority starts being shed', () => state().shed.low > 0);
    signals.current = HOLDING;
    await until('the controller holds', () => state().condition === 'hold');
    const fraction = state().shed.low;
    expect(fraction).to.be.above(0).and.below(1);

    const response = await post('/v1/events/batch', { events: Array.from({ length: 100 }, (_, n) => low(n)) });
    expect(response.status).to.equal(202);
    const { results } = (await response.json()) as { results: ItemResult[] };
    const shed = results.filter((r) => r.error?.code === 'overloaded');
    expect(shed.length).to.be.within(Math.floor(100 * fraction), Math.ceil(100 * fraction));
    expect(shed[0]!.error!.retryAfterSeconds).to.equal(Math.max(1, Math.ceil(fraction * 5)));
    expect(await written()).to.have.length(100 - shed.length);
  });

  it('releases by itself once the signals clear: low priority is accepted again, without flapping on the way', async () => {
    signals.current = OVERLOADED;
    await until('low priority is fully shed', () => state().shed.low === 1);
    expect((await post('/v1/events', low(1))).status).to.equal(429);

    signals.current = CLEAR;
    const levels: number[] = [];
    await until('shedding is released', () => {
      levels.push(state().level);
      return state().level === 0 && state().shed.low === 0;
    });
    // Recovery only ever goes one way while the signals stay clear.
    expect(levels.every((level, i) => i === 0 || level <= levels[i - 1]!)).to.equal(true);
    expect((await post('/v1/events', low(2))).status).to.equal(202);
    expect(await written()).to.deep.equal(['low-2']);
    // High priority on three accounts' partitions too (on a Cluster, more than one master).
    for (const n of [0, 1, 2]) expect((await post('/v1/events', high(n))).status).to.equal(202);
  });
});
