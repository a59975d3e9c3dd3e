import { expect } from 'chai';
import type { Priority } from '@herald/contracts';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import { useTestRedis, waitFor } from '@herald/testing';
import { LIVE_START, LiveStream, parseTailMessage } from './index.js';

describe('live stream', () => {
  const redis = useTestRedis();
  const stream = (maxLength?: number) => new LiveStream({ keys: createKeys(redis.prefix), ...(maxLength === undefined ? {} : { maxLength }) });
  let batch = 0;
  /** As the router stages a job's messages and the delivery moves them. */
  async function deliver(live: LiveStream, priority: Priority, partition: number, messages: string[]): Promise<number> {
    const staged = createKeys(redis.prefix).liveStaged(priority, partition, `b${++batch}`, 'web');
    await live.stage(redis.client, staged, messages);
    return live.appendStaged(redis.client, priority, partition, staged);
  }

  it('numbers the messages of a partition 1, 2, 3… across jobs, and reads them back after a position', async () => {
    const live = stream();
    expect(await live.head(redis.client, 'high', 0)).to.deep.equal(LIVE_START);
    expect(await deliver(live, 'high', 0, ['[1]', '[2]'])).to.equal(2);
    expect(await deliver(live, 'high', 0, ['[3]'])).to.equal(1);
    expect(await deliver(live, 'high', 1, ['[other]']), 'partitions count apart').to.equal(1);
    const all = await live.read(redis.client, 'high', 0, LIVE_START.id, 10);
    expect(all.map((e) => [e.seq, e.message])).to.deep.equal([
      [1, '[1]'],
      [2, '[2]'],
      [3, '[3]'],
    ]);
    expect((await live.read(redis.client, 'high', 0, all[0]!.id, 10)).map((e) => e.seq)).to.deep.equal([2, 3]);
    expect(await live.head(redis.client, 'high', 0)).to.deep.equal({ seq: 3, id: all[2]!.id });
    expect(await live.lastSeq(redis.client, 'high', 0)).to.equal(3);
  });

  it('moves a staged job once: run again, it appends nothing; staged again for the same batch, it keeps the first messages', async () => {
    const live = stream();
    const staged = createKeys(redis.prefix).liveStaged('low', 0, 'once', 'tv');
    expect(await live.stage(redis.client, staged, ['[first]'])).to.equal(true);
    expect(await live.stage(redis.client, staged, ['[second routing]']), 'a batch routed again').to.equal(false);
    expect(await redis.client.pttl(staged)).to.be.above(6 * 24 * 3600 * 1000);
    expect(await live.appendStaged(redis.client, 'low', 0, staged)).to.equal(1);
    expect(await live.appendStaged(redis.client, 'low', 0, staged), 'the job run again').to.equal(0);
    expect((await live.read(redis.client, 'low', 0, LIVE_START.id, 10)).map((e) => e.message)).to.deep.equal(['[first]']);
  });

  it("sends each message on the partition's shard channel as it is appended, with its number and entry id", async () => {
    const live = stream();
    const keys = createKeys(redis.prefix);
    const subscriber = createRedis({ url: redis.url, name: 'live-test-sub', shardedSubscriber: true });
    try {
      const received: string[] = [];
      subscriber.on('smessage', (channel: string, message: string) => {
        if (channel === keys.liveTail('low', 2)) received.push(message);
      });
      await subscriber.ssubscribe(keys.liveTail('low', 2));
      await deliver(live, 'low', 2, ['[{"a":"b c"}]', '[x]']);
      await waitFor('both tail messages', () => received.length === 2);
      const stored = await live.read(redis.client, 'low', 2, LIVE_START.id, 10);
      expect(received.map(parseTailMessage)).to.deep.equal(stored);
      expect(stored.map((e) => e.message)).to.deep.equal(['[{"a":"b c"}]', '[x]']);
    } finally {
      await closeRedis(subscriber);
    }
  });

  it('keeps about maxLength entries per partition', async () => {
    const live = stream(100);
    for (let i = 0; i < 30; i++)
      await deliver(
        live,
        'medium',
        0,
        Array.from({ length: 20 }, (_, j) => `[${i * 20 + j}]`),
      );
    const length = await redis.client.xlen(createKeys(redis.prefix).liveStream('medium', 0));
    expect(length).to.be.within(100, 300);
    expect((await live.head(redis.client, 'medium', 0)).seq).to.equal(600);
  });

  it('refuses malformed channel messages', () => {
    expect(parseTailMessage('1 1-0 [x]')).to.deep.equal({ seq: 1, id: '1-0', message: '[x]' });
    for (const raw of ['', '1', '1 1-0', 'x 1-0 [x]', '0 1-0 [x]', '1 abc [x]', '-1 1-0 [x]']) expect(parseTailMessage(raw), raw).to.equal(undefined);
  });
});
