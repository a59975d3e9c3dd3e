import { expect } from 'chai';
import { NotificationSchema } from '@herald/contracts';
import { closeRedis, createKeys, createRedis, ssubscribeAll } from '@herald/redis';
import { useTestRedis, waitFor } from '@herald/testing';
import { History, compareCursors, toNotification } from './index.js';
import type { HistoryEntry, HistoryOptions } from './index.js';

function entry(id: string, devices: string[] = ['tv'], accountId = 'acct'): HistoryEntry {
  return { id, type: 'plan.changed', priority: 'high', accountId, createdAt: 1_000, acceptedAt: 2_000, payload: { id }, devices };
}

describe('history', () => {
  const redis = useTestRedis();
  const history = (options: Partial<HistoryOptions> = {}) => new History({ redis: redis.client, keys: createKeys(redis.prefix), ...options });

  it('appends in order and reads back after a cursor', async () => {
    const h = history();
    const outcomes = await h.append('acct', [entry('a'), entry('b'), entry('c')]);
    expect(outcomes.map((o) => o.appended)).to.deep.equal([true, true, true]);
    expect(compareCursors(outcomes[0]!.cursor, outcomes[1]!.cursor)).to.equal(-1);
    const all = await h.range('acct', undefined, 10);
    expect(all.map((r) => r.entry.id)).to.deep.equal(['a', 'b', 'c']);
    expect((await h.range('acct', outcomes[0]!.cursor, 10)).map((r) => r.entry.id)).to.deep.equal(['b', 'c']);
    expect(await h.latestCursor('acct')).to.equal(outcomes[2]!.cursor);
  });

  it('tells each appended entry the cursor of the entry before it, across calls and accounts apart', async () => {
    const h = history();
    const first = await h.append('acct', [entry('a'), entry('b')]);
    expect(first.map((o) => o.prev)).to.deep.equal([null, first[0]!.cursor]);
    await h.append('other', [entry('x', ['tv'], 'other')]);
    const next = await h.append('acct', [entry('a'), entry('c'), entry('c'), entry('d')]);
    expect(next.map((o) => o.appended)).to.deep.equal([false, true, false, true]);
    expect(next[0]!.prev, 'a retry: not known').to.equal(undefined);
    expect(next[1]!.prev).to.equal(first[1]!.cursor);
    expect(next[3]!.prev).to.equal(next[1]!.cursor);
  });

  it('takes an event once: a retry gets the first cursor back and writes nothing', async () => {
    const h = history();
    const [first] = await h.append('acct', [entry('a')]);
    const again = await h.append('acct', [entry('a'), entry('b')]);
    expect(again[0]).to.deep.equal({ cursor: first!.cursor, appended: false });
    expect(again[1]!.appended).to.equal(true);
    expect((await h.range('acct', undefined, 10)).map((r) => r.entry.id)).to.deep.equal(['a', 'b']);
  });

  it('keeps at most maxLength entries and says when a cursor was trimmed past', async () => {
    const h = history({ maxLength: 3 });
    const outcomes = await h.append(
      'acct',
      ['a', 'b', 'c', 'd', 'e'].map((id) => entry(id)),
    );
    expect((await h.range('acct', undefined, 10)).map((r) => r.entry.id)).to.deep.equal(['c', 'd', 'e']);
    expect(await h.isTrimmedPast('acct', outcomes[0]!.cursor)).to.equal(true);
    expect(await h.isTrimmedPast('acct', outcomes[1]!.cursor)).to.equal(false);
    expect(await h.isTrimmedPast('acct', outcomes[4]!.cursor)).to.equal(false);
  });

  it('trims a full history to nine tenths of maxLength at once, then appends without trimming until it is full again', async () => {
    const h = history({ maxLength: 20 });
    const ids = Array.from({ length: 21 }, (_, i) => `e${i + 1}`);
    const full = await h.append(
      'acct',
      ids.slice(0, 20).map((id) => entry(id)),
    );
    expect((await h.range('acct', undefined, 100)).length).to.equal(20);
    await h.append('acct', [entry('e21')]);
    // 21 entries, one too many: the oldest three go, leaving 18 (a tenth of 20 below the cap).
    expect((await h.range('acct', undefined, 100)).map((r) => r.entry.id)).to.deep.equal(ids.slice(3));
    expect(await h.isTrimmedPast('acct', full[1]!.cursor)).to.equal(true);
    expect(await h.isTrimmedPast('acct', full[2]!.cursor), 'the newest trimmed: nothing after it is gone').to.equal(false);
    await h.append('acct', [entry('e22'), entry('e23')]);
    expect((await h.range('acct', undefined, 100)).length, 'at the cap, not over it').to.equal(20);
    expect(await h.isTrimmedPast('acct', full[2]!.cursor)).to.equal(false);
  });

  it('trims entries older than the retention and remembers the newest trimmed', async () => {
    const h = history({ retentionMs: 100 });
    const [old] = await h.append('acct', [entry('old')]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await h.append('acct', [entry('mid')]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const [fresh] = await h.append('acct', [entry('fresh')]);
    expect((await h.range('acct', undefined, 10)).map((r) => r.entry.id)).to.deep.equal(['mid', 'fresh']);
    expect(await h.isTrimmedPast('acct', `${Number(old!.cursor.split('-')[0]) - 1}-0`)).to.equal(true);
    expect(await h.isTrimmedPast('acct', old!.cursor)).to.equal(false);
    expect(await h.isTrimmedPast('acct', fresh!.cursor)).to.equal(false);
  });

  it('keeps a full history at its length as it appends, a repeat within a call getting its first cursor', async () => {
    const h = history({ maxLength: 3 });
    const [, b, c, d] = await h.append(
      'acct',
      ['a', 'b', 'c', 'd'].map((id) => entry(id)),
    );
    const again = await h.append('acct', [entry('e'), entry('d'), entry('e')]);
    expect(again.map((o) => o.appended)).to.deep.equal([true, false, false]);
    expect(again[1]!.cursor).to.equal(d!.cursor);
    expect(again[2]!.cursor).to.equal(again[0]!.cursor);
    await h.append('acct', [entry('f')]);
    expect((await h.range('acct', undefined, 10)).map((r) => r.entry.id)).to.deep.equal(['d', 'e', 'f']);
    // The newest trimmed is c: a device that saw c missed nothing, one that last saw b did.
    expect(await h.isTrimmedPast('acct', b!.cursor)).to.equal(true);
    expect(await h.isTrimmedPast('acct', c!.cursor)).to.equal(false);
  });

  it('trims by age past what it trims by length, in one append', async () => {
    const h = history({ maxLength: 3, retentionMs: 100 });
    const [a, b] = await h.append('acct', [entry('a'), entry('b')]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await h.append('acct', [entry('c')]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Four entries: the length trims `a`, and `b`, the first left, is past the retention too.
    await h.append('acct', [entry('d')]);
    expect((await h.range('acct', undefined, 10)).map((r) => r.entry.id)).to.deep.equal(['c', 'd']);
    expect(await h.isTrimmedPast('acct', a!.cursor)).to.equal(true);
    expect(await h.isTrimmedPast('acct', b!.cursor)).to.equal(false);
  });

  it('cannot vouch for cursors from before a history that expired and started anew', async () => {
    const h = history({ retentionMs: 50 });
    const [old] = await h.append('acct', [entry('old')]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    const [fresh] = await h.append('acct', [entry('fresh')]);
    expect(await h.isTrimmedPast('acct', old!.cursor)).to.equal(true);
    expect(await h.isTrimmedPast('acct', fresh!.cursor)).to.equal(false);
  });

  it('treats a cursor older than the retention of an expired history as trimmed', async () => {
    const h = history({ retentionMs: 60_000 });
    expect(await h.isTrimmedPast('nobody', `${Date.now() - 120_000}-0`)).to.equal(true);
    expect(await h.isTrimmedPast('nobody', `${Date.now() - 1_000}-0`)).to.equal(false);
  });

  it('expires an idle history after its retention', async () => {
    const h = history({ retentionMs: 5_000 });
    await h.append('acct', [entry('a')]);
    const ttl = await redis.client.pttl(createKeys(redis.prefix).history('acct'));
    expect(ttl).to.be.within(1, 5_000);
  });

  it("announces a batch's grown accounts in one message on its partition's shard channel", async () => {
    const keys = createKeys(redis.prefix);
    const subscriber = createRedis({ url: redis.url, shardedSubscriber: true });
    const received: [string, string][] = [];
    subscriber.on('smessage', (channel: string, message: string) => received.push([channel, message]));
    await ssubscribeAll(subscriber, [keys.historyAppended('high', 0), keys.historyAppended('low', 3)]);
    const h = history();
    await h.append('acct-7', [entry('b', ['tv'], 'acct-7')]);
    await h.append('acct-8', [entry('c', ['tv'], 'acct-8')]);
    await h.announce('high', 0, ['acct-7', 'acct-8']);
    await h.announce('low', 3, ['acct-9']);
    await h.announce('high', 0, []);
    // A marker on the same channel: had the empty batch published anything, it would come first.
    await h.announce('high', 0, ['marker']);
    await waitFor("the marker and the low channel's message", () => received.length >= 3 && received.some(([, message]) => message === '["marker"]'));
    // Per channel in order; the two channels (on a Cluster, two masters) in any order.
    expect(received).to.have.deep.members([
      [keys.historyAppended('high', 0), '["acct-7","acct-8"]'],
      [keys.historyAppended('low', 3), '["acct-9"]'],
      [keys.historyAppended('high', 0), '["marker"]'],
    ]);
    expect(received.filter(([channel]) => channel === keys.historyAppended('high', 0)).map(([, message]) => message)).to.deep.equal([
      '["acct-7","acct-8"]',
      '["marker"]',
    ]);
    await closeRedis(subscriber);
  });

  it('refuses an entry of another account', async () => {
    try {
      await history().append('acct', [entry('a', ['tv'], 'other')]);
      expect.fail('expected a refusal');
    } catch (error) {
      expect((error as Error).message).to.match(/cannot take an event of other/);
    }
  });

  it('turns an entry into the contract notification shape', () => {
    const notification = toNotification('5-0', { ...entry('a'), profileId: 'p', collapseKey: 'k' });
    expect(NotificationSchema.parse(notification)).to.deep.equal({
      id: 'a',
      cursor: '5-0',
      type: 'plan.changed',
      accountId: 'acct',
      profileId: 'p',
      payload: { id: 'a' },
      createdAt: new Date(1_000).toISOString(),
      priority: 'high',
      collapseKey: 'k',
    });
  });
});
