import { expect } from 'chai';
import type { Notification } from '@herald/contracts';
import { History } from '@herald/history';
import { partitionOf } from '@herald/priority-streams';
import { masters } from '@herald/redis';
import { useTestRedis, waitFor } from '@herald/testing';
import { entry, useGateways } from './gateway.fixture.js';

interface Pulled {
  notifications: Notification[];
  cursor: string | null;
  reset: boolean;
}

describe('gateway pull API', () => {
  const redis = useTestRedis();
  const gw = useGateways(redis);

  const pull = async (url: string, token: string, query = ''): Promise<{ status: number; body: Pulled; ms: number }> => {
    const started = Date.now();
    const response = await fetch(`${url}/v1/notifications${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as Pulled, ms: Date.now() - started };
  };
  /** Waits until `count` long-polls are registered for wake-ups (the gauge counts them from then on). */
  const longPollsWaiting = (url: string, count: number) =>
    waitFor(`${count} long-poll(s) waiting`, async () =>
      new RegExp(`^herald_gateway_long_polls\\{[^}]*\\} ${count}$`, 'm').test(await (await fetch(`${url}/metrics`)).text()),
    );

  it('returns only the notifications targeted at the device, oldest first, with the cursor to continue from', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    const outcomes = await gw.history.append('alice', [entry('a', ['phone']), entry('b', ['tv']), entry('c', ['phone', 'tv']), entry('d', ['tv'])]);
    const { status, body } = await pull(node.url, token);
    expect(status).to.equal(200);
    expect(body.notifications.map((n) => n.id)).to.deep.equal(['a', 'c']);
    expect(body.cursor).to.equal(outcomes[3]!.cursor);
    expect(body.reset).to.equal(false);
    const next = await pull(node.url, token, `?after=${body.cursor}`);
    expect(next.body).to.deep.equal({ notifications: [], cursor: outcomes[3]!.cursor, reset: false });
  });

  it('pages with limit and after, without skipping or repeating', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    await gw.history.append(
      'alice',
      ['1', '2', '3', '4', '5'].map((id) => entry(id, ['phone'])),
    );
    const first = await pull(node.url, token, '?limit=2');
    const second = await pull(node.url, token, `?limit=2&after=${first.body.cursor}`);
    const third = await pull(node.url, token, `?limit=2&after=${second.body.cursor}`);
    expect([first, second, third].map((p) => p.body.notifications.map((n) => n.id))).to.deep.equal([['1', '2'], ['3', '4'], ['5']]);
    expect(first.body.cursor).to.equal(first.body.notifications[1]!.cursor);
  });

  it('returns only the newest notification of each collapse key', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    await gw.history.append('alice', [
      entry('p1', ['phone'], { collapseKey: 'title-1' }),
      entry('x', ['phone']),
      entry('p2', ['phone'], { collapseKey: 'title-1' }),
      entry('q1', ['phone'], { collapseKey: 'title-2' }),
    ]);
    const { body } = await pull(node.url, token);
    expect(body.notifications.map((n) => n.id)).to.deep.equal(['x', 'p2', 'q1']);
    expect(body.notifications[1]!.collapseKey).to.equal('title-1');
  });

  it('answers reset with the newest cursor when after is older than the retained history', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    const outcomes = await new History({ redis: redis.client, keys: gw.keys, maxLength: 2 }).append(
      'alice',
      ['1', '2', '3', '4'].map((id) => entry(id, ['phone'])),
    );
    const { body } = await pull(node.url, token, `?after=${outcomes[0]!.cursor}`);
    expect(body).to.deep.equal({ notifications: [], cursor: outcomes[3]!.cursor, reset: true });
  });

  it('long-polls until a notification for the device arrives, and wakes at once', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    const [seed] = await gw.history.append('alice', [entry('seed', ['phone'])]);
    const waiting = pull(node.url, token, `?after=${seed!.cursor}&waitMs=5000`);
    await longPollsWaiting(node.url, 1);
    // As the worker does: append, then announce the account on the partition's channel.
    await gw.history.append('alice', [entry('not-mine', ['tv'])]);
    await gw.history.announce('high', 1, ['alice']);
    // A window, not a marker: the next announcement is on another channel (another priority), so
    // nothing orders its handling after this one's; a poll wrongly answered here would answer [].
    await new Promise((resolve) => setTimeout(resolve, 150));
    await gw.history.append('alice', [entry('mine', ['phone'])]);
    await gw.history.announce('low', 3, ['alice']);
    const { body, ms } = await waiting;
    expect(body.notifications.map((n) => n.id)).to.deep.equal(['mine']);
    expect(ms).to.be.below(2000);
  });

  it('wakes long-polls on batch announcements, ignoring malformed ones', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    const [seed] = await gw.history.append('alice', [entry('seed', ['phone'])]);
    const longPoll = () => pull(node.url, token, `?after=${seed!.cursor}&waitMs=5000`);
    const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

    const waiting = longPoll();
    await settle();
    await gw.history.append('alice', [entry('mine', ['phone'])]);
    await redis.client.spublish(gw.keys.historyAppended('medium', 2), 'not json');
    await redis.client.spublish(gw.keys.historyAppended('medium', 2), JSON.stringify([42]));
    await settle();
    await gw.history.announce('medium', 2, ['other', 'alice']);
    const result = await waiting;
    expect(result.body.notifications.map((n) => n.id)).to.deep.equal(['mine']);
    expect(result.ms, 'woken by the batch announcement, not the malformed ones').to.be.within(250, 2000);
  });

  it('times out a long-poll with an empty list and the cursor unchanged', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    const [seed] = await gw.history.append('alice', [entry('seed', ['phone'])]);
    await gw.history.append('other', [entry('elsewhere', ['phone'], {}, 'other')]);
    const { body, ms } = await pull(node.url, token, `?after=${seed!.cursor}&waitMs=300`);
    expect(body).to.deep.equal({ notifications: [], cursor: seed!.cursor, reset: false });
    expect(ms).to.be.within(280, 1500);
  });

  it('serves many long-polls over one subscriber connection, without a Redis connection each', async () => {
    const node = await gw.startNode();
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => gw.register(`phone-${i}`, `acct-${i}`, 'ios')));
    const connections = async () => {
      const lists = await Promise.all(masters(redis.client).map(async (node) => (await node.client('LIST')) as string));
      return lists.flatMap((list) => list.split('\n')).filter((line) => /name=gw-test/.test(line)).length;
    };
    const before = await connections();
    const polls = tokens.map((token) => pull(node.url, token, '?waitMs=3000'));
    await longPollsWaiting(node.url, 50);
    expect(await connections()).to.equal(before);
    await Promise.all(tokens.map((_, i) => gw.history.append(`acct-${i}`, [entry(`e${i}`, [`phone-${i}`], {}, `acct-${i}`)])));
    // Announced as the worker does (the fixture's node has 4 partitions), so the polls answer now, not at their timeout.
    await Promise.all(tokens.map((_, i) => gw.history.announce('medium', partitionOf(`acct-${i}`, 4), [`acct-${i}`])));
    const answers = await Promise.all(polls);
    expect(answers.map((a) => a.body.notifications.length)).to.deep.equal(tokens.map(() => 1));
  });

  it('reports not ready and answers waiting long-polls at once when the node shuts down', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    const [seed] = await gw.history.append('alice', [entry('seed', ['phone'])]);
    const waiting = pull(node.url, token, `?after=${seed!.cursor}&waitMs=20000`);
    await longPollsWaiting(node.url, 1);
    const closed = node.close();
    expect((await fetch(`${node.url}/readyz`).catch(() => undefined))?.status ?? 503).to.equal(503);
    await closed;
    const { status, body, ms } = await waiting;
    expect(status).to.equal(200);
    expect(body).to.deep.equal({ notifications: [], cursor: seed!.cursor, reset: false });
    expect(ms).to.be.below(2000);
  });

  it('answers a bad query with invalid_request and one detail per problem', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    const response = await fetch(`${node.url}/v1/notifications?limit=0&waitMs=31000&after=yesterday`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).to.equal(400);
    const { error } = (await response.json()) as { error: { code: string; details: { path: string }[] } };
    expect(error.code).to.equal('invalid_request');
    expect(error.details.map((d) => d.path).sort()).to.deep.equal(['after', 'limit', 'waitMs']);
  });

  it('refreshes the device lastSeenAt on each pull', async () => {
    const node = await gw.startNode();
    const token = await gw.register('phone', 'alice', 'ios');
    const before = (await gw.registry.get('alice', 'phone'))!.lastSeenAt;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await pull(node.url, token);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await gw.registry.get('alice', 'phone'))!.lastSeenAt).to.be.above(before);
  });

  it('serves health, readiness and herald_ metrics', async () => {
    const node = await gw.startNode();
    expect((await fetch(`${node.url}/healthz`)).status).to.equal(200);
    expect(await (await fetch(`${node.url}/readyz`)).json()).to.deep.equal({ status: 'ready' });
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    for (const name of [
      'herald_gateway_connections',
      'herald_gateway_long_polls',
      'herald_gateway_notifications_replayed_total',
      'herald_gateway_notifications_pushed_total',
      'herald_gateway_acks_total',
    ]) {
      expect(metrics).to.include(name);
    }
    const missing = await fetch(`${node.url}/v1/nothing`);
    expect(missing.status).to.equal(404);
  });
});
