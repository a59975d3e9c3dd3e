import { expect } from 'chai';
import { AcceptedEventSchema } from '@herald/contracts';
import type { AcceptedEvent, Priority } from '@herald/contracts';
import { closeRedis, createKeys, createRedis, scanKeys } from '@herald/redis';
import { clientList, useTestRedis } from '@herald/testing';
import { PriorityStreams } from './index.js';
import type { PriorityStreamsOptions } from './index.js';

function event(id: string, accountId: string, priority: Priority = 'high'): AcceptedEvent {
  return { id, type: 'plan.changed', priority, accountId, createdAt: 1, acceptedAt: 2, payload: { n: id } };
}

describe('priority streams', () => {
  const redis = useTestRedis();
  const streams = (overrides: Partial<PriorityStreamsOptions> = {}) =>
    new PriorityStreams({
      redis: redis.client,
      keys: createKeys(redis.prefix),
      priorities: {
        high: { partitions: 4, backlogLimit: 1000 },
        medium: { partitions: 2, backlogLimit: 1000 },
        low: { partitions: 1, backlogLimit: 3 },
      },
      dedupWindowMs: 60_000,
      ...overrides,
    });

  it("appends each event to its priority's partition for its account, readable back as an AcceptedEvent", async () => {
    const s = streams();
    const results = await s.append([event('e1', 'acct-1'), event('e2', 'acct-1', 'medium'), event('e3', 'acct-1')]);
    expect(results.map((r) => r.status)).to.deep.equal(['accepted', 'accepted', 'accepted']);
    expect(await s.backlog('high')).to.satisfy((counts: number[]) => counts.reduce((a, b) => a + b) === 2);
    const key = createKeys(redis.prefix).stream('high', s.partitionOf('high', 'acct-1'));
    const entries = await redis.client.xrange(key, '-', '+');
    expect(entries).to.have.length(1);
    const [, fields] = entries[0]!;
    expect(fields.slice(0, 2)).to.deep.equal(['n', '2']);
    const decoded = AcceptedEventSchema.array().parse(JSON.parse(fields[3]!));
    expect(decoded.map((e) => e.id)).to.deep.equal(['e1', 'e3']);
    expect(decoded[0]).to.deep.equal(event('e1', 'acct-1'));
  });

  it("sends each priority's appends through that priority's connection", async () => {
    const connection = (name: string) => createRedis({ url: redis.url, name: `${redis.prefix}-${name}` });
    const appenders = { high: connection('high'), low: connection('low') };
    try {
      const s = streams({ appenders });
      await s.append([event('m1', 'acct-1', 'medium'), event('l1', 'acct-1', 'low'), event('h1', 'acct-1')]);
      // On a Cluster a client has a connection per master: one of them ran the script (EVAL the
      // first time on a master that did not know it yet).
      const clients = await clientList(redis.client);
      const ranScript = (name: string) => clients.some((line) => line.includes(` name=${redis.prefix}-${name} `) && /cmd=(evalsha|eval) /.test(line));
      expect(ranScript('high')).to.equal(true);
      expect(ranScript('low')).to.equal(true);
      expect(await redis.client.xlen(createKeys(redis.prefix).stream('medium', s.partitionOf('medium', 'acct-1'))), 'medium: through `redis`').to.equal(1);
    } finally {
      await Promise.all(Object.values(appenders).map((client) => closeRedis(client)));
    }
  });

  it('spreads accounts over the partitions', () => {
    const s = streams();
    const used = new Set(Array.from({ length: 200 }, (_, i) => s.partitionOf('high', `acct-${i}`)));
    expect([...used].sort()).to.deep.equal([0, 1, 2, 3]);
  });

  it('appends an id once, also when two calls race with it', async () => {
    const s = streams();
    const raced = await Promise.all(Array.from({ length: 10 }, () => s.append([event('same', 'acct-1')])));
    expect(raced.flat().filter((r) => r.status === 'accepted')).to.have.length(1);
    expect(raced.flat().filter((r) => r.status === 'duplicate')).to.have.length(9);
    const again = await s.append([event('same', 'acct-1'), event('same', 'acct-1')]);
    expect(again.map((r) => r.status)).to.deep.equal(['duplicate', 'duplicate']);
    expect((await s.backlog('high')).reduce((a, b) => a + b)).to.equal(1);
  });

  it('leaves the duplicates out of an entry, whatever the bytes of the events around them', async () => {
    const s = streams();
    await s.append([event('seen', 'acct-1')]);
    // One call, coalesced: a known id and an id twice, between events of multi-byte payloads.
    const wide = (id: string): AcceptedEvent => ({ ...event(id, 'acct-1'), payload: { text: `é☃😀 "${id}", [x]` } });
    const results = await s.append([wide('w1'), event('seen', 'acct-1'), wide('w2'), wide('w1'), wide('w3')]);
    expect(results.map((r) => r.status)).to.deep.equal(['accepted', 'duplicate', 'accepted', 'duplicate', 'accepted']);
    const entries = await redis.client.xrange(createKeys(redis.prefix).stream('high', s.partitionOf('high', 'acct-1')), '-', '+');
    const [, fields] = entries[1]!;
    expect(fields.slice(0, 2)).to.deep.equal(['n', '3']);
    expect(AcceptedEventSchema.array().parse(JSON.parse(fields[3]!))).to.deep.equal([wide('w1'), wide('w2'), wide('w3')]);
  });

  it('refuses a priority over its backlog limit, writing nothing, while the others go on', async () => {
    const s = streams();
    // Account b: its low and high partitions are on different masters of a 3-master Cluster.
    await s.append([event('l1', 'b', 'low'), event('l2', 'b', 'low'), event('l3', 'b', 'low')]);
    const results = await s.append([event('l4', 'b', 'low'), event('h1', 'b', 'high')]);
    expect(results[0]).to.deep.equal({ status: 'backlog_exceeded', retryAfterSeconds: 1 });
    expect(results[1]?.status).to.equal('accepted');
    expect(await s.backlog('low')).to.deep.equal([3]);
    // the refused id was not marked: once there is room, it is accepted
    await redis.client.decrby(createKeys(redis.prefix).backlog('low', 0), 3);
    expect((await s.append([event('l4', 'b', 'low')]))[0]?.status).to.equal('accepted');
  });

  it('rejects nonsense settings when built', () => {
    expect(() => streams({ dedupWindowMs: 0 })).to.throw(RangeError);
    expect(() =>
      streams({
        priorities: {
          high: { partitions: 0, backlogLimit: 1 },
          medium: { partitions: 1, backlogLimit: 1 },
          low: { partitions: 1, backlogLimit: 1 },
        },
      }),
    ).to.throw(/partitions of high/);
    expect(() => streams({ maxEventsPerEntry: 5001 })).to.throw(/maxEventsPerEntry must be an integer in 1..5000/);
  });

  it('coalesces appends made in the same tick into one entry per partition, keeping their order', async () => {
    const s = streams();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => s.append([event(`c${i}`, 'acct-1')])));
    const entryIds = new Set(results.flat().map((r) => (r.status === 'accepted' ? r.entryId : r.status)));
    expect(entryIds.size).to.equal(1);
    const key = createKeys(redis.prefix).stream('high', s.partitionOf('high', 'acct-1'));
    const [[, fields]] = (await redis.client.xrange(key, '-', '+')) as [[string, string[]]];
    expect(
      AcceptedEventSchema.array()
        .parse(JSON.parse(fields[3]!))
        .map((e) => e.id),
    ).to.deep.equal(Array.from({ length: 50 }, (_, i) => `c${i}`));
  });

  it('splits a large append over entries of at most maxEventsPerEntry events', async () => {
    const s = streams({ maxEventsPerEntry: 10 });
    await s.append(Array.from({ length: 5 }, (_, i) => event(`a${i}`, 'acct-1')));
    await Promise.all([s.append(Array.from({ length: 8 }, (_, i) => event(`b${i}`, 'acct-1'))), s.append([event('c', 'acct-1')])]);
    const key = createKeys(redis.prefix).stream('high', s.partitionOf('high', 'acct-1'));
    const counts = (await redis.client.xrange(key, '-', '+')).map(([, fields]) => Number(fields[1]));
    expect(counts).to.deep.equal([5, 9]);
  });

  it('remembers an id for at least the idempotency window and at most two', async () => {
    const s = streams({ dedupWindowMs: 100 });
    await s.append([event('short', 'acct-1')]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await s.append([event('short', 'acct-1')]))[0]?.status).to.equal('duplicate');
    await new Promise((resolve) => setTimeout(resolve, 160));
    expect((await s.append([event('short', 'acct-1')]))[0]?.status).to.equal('accepted');
  });

  it('numbers idempotency buckets by the Redis clock even when ours is off', async () => {
    const s = streams({ dedupWindowMs: 1000 });
    const realNow = Date.now;
    Date.now = () => realNow() + 3_600_000;
    try {
      expect((await s.append([event('skewed', 'acct-1')]))[0]?.status).to.equal('accepted');
    } finally {
      Date.now = realNow;
    }
    expect((await s.append([event('skewed', 'acct-1')]))[0]?.status).to.equal('duplicate');
    const buckets = await scanKeys(redis.client, `${redis.prefix}:{p:high:*}:seen:*`);
    const redisBucket = Math.floor(Number((await redis.client.time())[0]) / 1);
    expect(buckets.map((key) => Number(key.split(':').pop()))).to.satisfy((numbers: number[]) => numbers.every((n) => Math.abs(n - redisBucket) <= 2));
  });
});
