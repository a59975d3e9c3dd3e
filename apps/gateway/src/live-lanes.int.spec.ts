import { expect } from 'chai';
import { encodeLiveBatches, encodeLivePush } from '@herald/contracts';
import type { Notification, Priority } from '@herald/contracts';
import { loadConfig } from '@herald/config';
import { toNotification } from '@herald/history';
import { useTestRedis } from '@herald/testing';
import { entry, useGateways, waitUntil } from './gateway.fixture.js';
import { createGatewayWiring } from './wiring.js';

/** A notification of account `acct` with a cursor after anything the test's history holds. */
function notification(id: string, priority: Priority = 'medium', sequence = 0): Notification {
  return { id, cursor: `${Date.now()}-${sequence}`, type: 'mylist.updated', accountId: 'acct', payload: { id }, createdAt: new Date().toISOString(), priority };
}

function message(pushes: { deviceIds: string[]; notification: Notification }[]): string {
  const [only, ...rest] = encodeLiveBatches(pushes.map((push) => encodeLivePush('acct', push.deviceIds, JSON.stringify(push.notification))));
  if (only === undefined || rest.length > 0) throw new Error('one message expected');
  return only;
}

/** A counter of the node's /metrics for one reason. */
async function counted(url: string, metric: string, reason: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(`reason="${reason}"`));
  return found === undefined ? 0 : Number(found.split(' ').at(-1));
}

const dropped = (url: string, reason: string) => counted(url, 'herald_gateway_notifications_dropped_total', reason);
const resyncs = (url: string, reason: string) => counted(url, 'herald_gateway_resyncs_total', reason);

/** The live message of one history entry for `deviceIds` (as the worker stages it). */
function messageOf(cursor: string, historyEntry: ReturnType<typeof entry>, deviceIds: string[]): string {
  return message([{ deviceIds, notification: toNotification(cursor, historyEntry) }]);
}

describe('gateway live lanes', () => {
  const redis = useTestRedis();
  const gw = useGateways(redis);

  it('delivers each push of a live message to the devices it names, on whichever node holds them, in order', async () => {
    const [a, b] = [await gw.startNode({ nodeId: 'a' }), await gw.startNode({ nodeId: 'b' })];
    const tvA = await gw.connect(a.url, { token: await gw.register('tv-a') });
    const tvB = await gw.connect(b.url, { token: await gw.register('tv-b') });
    const other = await gw.connect(a.url, { token: await gw.register('tv-other') });
    const pushes = [
      { deviceIds: ['tv-a', 'tv-b'], notification: notification('e1', 'medium', 1) },
      { deviceIds: ['tv-a'], notification: notification('e2', 'medium', 2) },
    ];
    await redis.client.publish(gw.keys.liveChannel('medium'), message(pushes));
    await waitUntil(() => tvA.notifications.length === 2 && tvB.notifications.length === 1, 3000, 'the pushes');
    expect(tvA.notifications.map((n) => n.id)).to.deep.equal(['e1', 'e2']);
    expect(tvA.notifications[0]).to.deep.equal(pushes[0]!.notification);
    expect(tvB.notifications.map((n) => n.id)).to.deep.equal(['e1']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(other.notifications).to.deep.equal([]);
  });

  it('drops a message that is not a live batch, counts it as invalid, and serves the next one', async () => {
    const node = await gw.startNode();
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    const channel = gw.keys.liveChannel('high');
    await redis.client.publish(channel, 'not json');
    await redis.client.publish(channel, JSON.stringify([{ accountId: 'acct', deviceIds: ['tv'], notification: { id: 'no-cursor' } }]));
    await redis.client.publish(channel, message([{ deviceIds: ['tv'], notification: notification('good', 'high', 1) }]));
    await waitUntil(() => tv.notifications.length === 1, 3000, 'the valid push');
    expect(tv.notifications[0]?.id).to.equal('good');
    expect(await dropped(node.url, 'invalid')).to.equal(2);
  });

  it('serves a high-priority message before a backlog of low-priority ones that arrived first', async () => {
    const node = await gw.startNode();
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    const lows = 200;
    const pipeline = redis.client.pipeline();
    for (let i = 1; i <= lows; i++) pipeline.publish(gw.keys.liveChannel('low'), message([{ deviceIds: ['tv'], notification: notification(`low-${i}`, 'low', i) }]));
    pipeline.publish(gw.keys.liveChannel('high'), message([{ deviceIds: ['tv'], notification: notification('high', 'high', lows + 1) }]));
    await pipeline.exec();
    await waitUntil(() => tv.notifications.length === lows + 1, 5000, 'every push');
    const position = tv.notifications.findIndex((n) => n.id === 'high');
    // Served in arrival order it would be last; served by priority it overtakes the backlog.
    expect(position).to.be.lessThan(lows / 2);
    const lowOrder = tv.notifications.filter((n) => n.priority === 'low').map((n) => n.id);
    expect(lowOrder).to.deep.equal(Array.from({ length: lows }, (_, i) => `low-${i + 1}`));
  });

  it('drops the oldest messages of a full lane, and counts them, rather than grow without bound', async () => {
    const node = await gw.startNode({ liveLaneLimit: 5 });
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    const pipeline = redis.client.pipeline();
    for (let i = 1; i <= 100; i++) pipeline.publish(gw.keys.liveChannel('low'), message([{ deviceIds: ['tv'], notification: notification(`low-${i}`, 'low', i) }]));
    await pipeline.exec();
    await waitUntil(async () => tv.notifications.length + (await dropped(node.url, 'overflow')) === 100, 5000, 'every message served or dropped');
    expect(tv.notifications.length).to.be.lessThan(100);
    expect(tv.notifications.at(-1)?.id).to.equal('low-100');
  });

  it('resyncs the devices of messages dropped from a full lane from history: none of their notifications is lost', async () => {
    const node = await gw.startNode({ liveLaneLimit: 5 });
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    const entries = Array.from({ length: 100 }, (_, i) => entry(`e${i + 1}`, ['tv']));
    const outcomes = await gw.history.append('acct', entries);
    const pipeline = redis.client.pipeline();
    outcomes.forEach(({ cursor }, i) => pipeline.publish(gw.keys.liveChannel('low'), messageOf(cursor, entries[i]!, ['tv'])));
    await pipeline.exec();
    await waitUntil(() => new Set(tv.notifications.map((n) => n.id)).size === 100, 5000, 'every notification');
    expect(await dropped(node.url, 'overflow')).to.be.greaterThan(0);
    expect(await resyncs(node.url, 'overflow')).to.be.greaterThan(0);
    expect(tv.socket.connected, 'resynced in place, not reconnected').to.equal(true);
  });

  it('resyncs its connections from history when its live subscription comes back after a loss', async () => {
    const node = await gw.startNode();
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    const live = entry('live', ['tv']);
    const [sent] = await gw.history.append('acct', [live]);
    await redis.client.publish(gw.keys.liveChannel('medium'), messageOf(sent!.cursor, live, ['tv']));
    await waitUntil(() => tv.notifications.length === 1, 3000, 'the live push');

    const clients = String(await redis.client.client('LIST')).split('\n');
    const subscriberId = /id=(\d+)/.exec(clients.find((line) => line.includes('name=gw-test-live-sub')) ?? '')?.[1];
    expect(subscriberId, 'the live subscriber connection').to.be.a('string');
    await redis.client.client('KILL', 'ID', subscriberId!);
    // ioredis reconnects after 100 ms at the soonest: nobody hears this push.
    const missed = entry('missed', ['tv']);
    const [lost] = await gw.history.append('acct', [missed]);
    expect(await redis.client.publish(gw.keys.liveChannel('medium'), messageOf(lost!.cursor, missed, ['tv'])), 'subscribers of the push').to.equal(0);

    await waitUntil(() => tv.notifications.length === 2, 5000, 'the lost push, from history');
    // The push it had sent is in the lookback too, and not sent twice.
    expect(tv.notifications.map((n) => n.id)).to.deep.equal(['live', 'missed']);
    expect(await resyncs(node.url, 'resubscribed')).to.equal(1);
    expect(tv.socket.connected).to.equal(true);
  });

  it('asks a device to reconnect when its resync cannot read history, so its own cursor brings it up to date', async () => {
    const node = await gw.startNode({ liveLaneLimit: 1 });
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    // A history key that cannot be read as a stream: every XRANGE on it fails.
    await redis.client.set(gw.keys.history('acct'), 'not a stream');
    const pipeline = redis.client.pipeline();
    for (let i = 1; i <= 5; i++) pipeline.publish(gw.keys.liveChannel('low'), message([{ deviceIds: ['tv'], notification: notification(`low-${i}`, 'low', i) }]));
    await pipeline.exec();
    await waitUntil(() => tv.reconnectRequests.length === 1, 3000, 'the reconnect request');
    expect(tv.reconnectRequests).to.deep.equal(['replay_failed']);
  });

  it('takes its lane limit from HERALD_GATEWAY_LIVE_LANE_LIMIT', async () => {
    const wiring = createGatewayWiring(loadConfig({ HERALD_GATEWAY_LIVE_LANE_LIMIT: '7' }, 'gateway'), redis.url);
    try {
      expect(wiring.options.liveLaneLimit).to.equal(7);
    } finally {
      await wiring.closeConnections();
    }
  });
});
