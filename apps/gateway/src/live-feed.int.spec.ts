import { expect } from 'chai';
import { loadConfig } from '@herald/config';
import { masters } from '@herald/redis';
import { partitionOf } from '@herald/priority-streams';
import { useTestRedis, waitFor } from '@herald/testing';
import type { Device } from './gateway.fixture.js';
import { ACCOUNT, entry, useGateways } from './gateway.fixture.js';
import { createGatewayWiring } from './wiring.js';

/** A counter of the node's /metrics for one reason. */
async function counted(url: string, metric: string, reason: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(`reason="${reason}"`));
  return found === undefined ? 0 : Number(found.split(' ').at(-1));
}

const dropped = (url: string, reason: string) => counted(url, 'herald_gateway_notifications_dropped_total', reason);
const gapFills = (url: string, reason: string) => counted(url, 'herald_gateway_gap_fills_total', reason);

/** Every id the device received, in order, as counted on the socket (no duplicate filter). */
const ids = (device: Device) => device.notifications.map((n) => n.id);

describe('gateway live feed: exactly once, in order, by the delivered cursor', () => {
  const redis = useTestRedis();
  const gw = useGateways(redis);

  it('delivers each push of a live message to the devices it names, on whichever node holds them, in order', async () => {
    const [a, b] = [await gw.startNode({ nodeId: 'a' }), await gw.startNode({ nodeId: 'b' })];
    const tvA = await gw.connect(a.url, { token: await gw.register('tv-a') });
    const tvB = await gw.connect(b.url, { token: await gw.register('tv-b') });
    const other = await gw.connect(a.url, { token: await gw.register('tv-other') });
    await gw.deliver('alice', [entry('e1', ['tv-a', 'tv-b']), entry('e2', ['tv-a']), entry('marker', ['tv-a', 'tv-b', 'tv-other'])]);
    await waitFor('the pushes', () => [tvA, tvB, other].every((d) => ids(d).includes('marker')), { timeoutMs: 3000 });
    expect(ids(tvA)).to.deep.equal(['e1', 'e2', 'marker']);
    expect(ids(tvB)).to.deep.equal(['e1', 'marker']);
    expect(ids(other)).to.deep.equal(['marker']);
  });

  it('sends a push that overtook an earlier one of another priority only after reading the earlier one from history, then drops the late push', async () => {
    const node = await gw.startNode();
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    // The medium event is appended, but its delivery is slow; the high one is pushed at once.
    const medium = entry('medium', ['tv'], { priority: 'medium' });
    const [slow] = await gw.history.append('alice', [medium]);
    const [fast] = await gw.deliver('alice', [entry('high', ['tv'], { priority: 'high' })]);
    expect(fast!.prev).to.equal(slow!.cursor);
    await waitFor('both', () => ids(tv).length === 2, { timeoutMs: 3000 });
    expect(ids(tv)).to.deep.equal(['medium', 'high']);
    // The medium push finally arrives: a true duplicate.
    await gw.push([{ entry: medium, outcome: slow!, deviceIds: ['tv'] }]);
    await gw.deliver('alice', [entry('marker', ['tv'], { priority: 'medium' })]);
    await waitFor('the marker', () => ids(tv).includes('marker'), { timeoutMs: 3000 });
    expect(ids(tv)).to.deep.equal(['medium', 'high', 'marker']);
    expect(await gapFills(node.url, 'gap')).to.equal(1);
    // Both pushes came after history had delivered them: the one that showed the gap, and the late one.
    expect(await dropped(node.url, 'duplicate')).to.equal(2);
    const trace = await redis.client.hgetall(gw.keys.trace('medium'));
    expect(Object.keys(trace), 'sent once from history, listed once').to.deep.equal(['sent:tv:tv']);
    expect(await gw.liveSends('medium'), 'its live push, dropped, is not listed').to.deep.equal([]);
    // The gap read reached the high entry too: it went out from history, and its push was dropped.
    expect(Object.keys(await redis.client.hgetall(gw.keys.trace('high')))).to.deep.equal(['sent:tv:tv']);
    expect(await gw.liveSends('high')).to.deep.equal([]);
    expect(await gw.liveSends('marker'), 'a push that follows on, sent live').to.deep.equal(['tv']);
  });

  it('never skips a notification still in flight when the device reconnects with its newest cursor (regression: 0/10 delivered)', async () => {
    const [a, b] = [await gw.startNode({ nodeId: 'a' }), await gw.startNode({ nodeId: 'b' })];
    const token = await gw.register('tv');
    const onA = await gw.connect(a.url, { token });
    const delayed: { entry: ReturnType<typeof entry>; outcome: Awaited<ReturnType<typeof gw.history.append>>[number] }[] = [];
    for (let i = 0; i < 10; i++) {
      const medium = entry(`medium-${i}`, ['tv'], { priority: 'medium' });
      const [outcome] = await gw.history.append('alice', [medium]);
      delayed.push({ entry: medium, outcome: outcome! });
      await gw.deliver('alice', [entry(`high-${i}`, ['tv'], { priority: 'high' })]);
    }
    await waitFor('all twenty', () => ids(onA).length === 20, { timeoutMs: 3000 });
    const newest = onA.notifications.at(-1)!.cursor;
    await a.close();
    const onB = await gw.connect(b.url, { token, cursor: newest });
    // The delayed medium pushes finally go out, to the node the device is on now.
    await gw.push(delayed.map(({ entry: e, outcome }) => ({ entry: e, outcome, deviceIds: ['tv'] })));
    await gw.deliver('alice', [entry('marker', ['tv'])]);
    await waitFor('the marker', () => ids(onB).includes('marker'), { timeoutMs: 3000 });
    expect(ids(onB)).to.deep.equal(['marker']);
    const all = [...ids(onA), ...ids(onB)];
    for (let i = 0; i < 10; i++)
      expect(
        all.filter((id) => id === `medium-${i}`),
        `medium-${i}`,
      ).to.have.length(1);
  });

  it('reads entries for other devices over as a gap, and sends only its own', async () => {
    const node = await gw.startNode();
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    await gw.deliver('alice', [entry('mine-1', ['tv']), entry('theirs', ['web']), entry('mine-2', ['tv'])]);
    await waitFor('both of mine', () => ids(tv).length === 2, { timeoutMs: 3000 });
    expect(ids(tv)).to.deep.equal(['mine-1', 'mine-2']);
  });

  it('reads a message lost in transit from the live stream when the next one shows the gap', async () => {
    const node = await gw.startNode();
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    const [first] = await gw.deliver('alice', [entry('e1', ['tv'])]);
    await waitFor('e1', () => ids(tv).length === 1, { timeoutMs: 3000 });
    // e2's message is in the stream but its channel message is lost: a subscriber of no channel.
    const partition = partitionOf('alice', 4);
    const e2 = entry('e2', ['tv']);
    const [second] = await gw.history.append('alice', [e2]);
    await redis.client.xadd(
      gw.keys.liveStream('medium', partition),
      '*',
      's',
      '2',
      'm',
      JSON.stringify({
        pushes: [
          {
            accountId: 'alice',
            deviceIds: ['tv'],
            prev: first!.cursor,
            notification: {
              id: 'e2',
              cursor: second!.cursor,
              type: e2.type,
              accountId: 'alice',
              payload: e2.payload,
              createdAt: new Date(e2.createdAt).toISOString(),
              priority: 'medium',
            },
          },
        ],
      }),
    );
    await redis.client.incr(gw.keys.liveSequence('medium', partition));
    await gw.deliver('alice', [entry('e3', ['tv'])]);
    await waitFor('e2 and e3', () => ids(tv).length === 3, { timeoutMs: 3000 });
    expect(ids(tv)).to.deep.equal(['e1', 'e2', 'e3']);
    expect(await gapFills(node.url, 'gap'), 'read from the live stream, not history').to.equal(0);
  });

  it('finds a lost last message at the next check, with no later message to show the gap', async () => {
    const node = await gw.startNode({ liveCheckIntervalMs: 100 });
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    const partition = partitionOf('alice', 4);
    const e1 = entry('e1', ['tv']);
    const [outcome] = await gw.history.append('alice', [e1]);
    await redis.client.xadd(
      gw.keys.liveStream('medium', partition),
      '*',
      's',
      '1',
      'm',
      JSON.stringify({
        pushes: [
          {
            accountId: 'alice',
            deviceIds: ['tv'],
            prev: null,
            notification: {
              id: 'e1',
              cursor: outcome!.cursor,
              type: e1.type,
              accountId: 'alice',
              payload: e1.payload,
              createdAt: new Date(e1.createdAt).toISOString(),
              priority: 'medium',
            },
          },
        ],
      }),
    );
    await redis.client.incr(gw.keys.liveSequence('medium', partition));
    await waitFor('e1, from the stream', () => ids(tv).length === 1, { timeoutMs: 3000 });
    expect(ids(tv)).to.deep.equal(['e1']);
  });

  it('after its subscriber connection is killed, delivers what was sent meanwhile from the live stream, once, without a reconnect', async () => {
    const node = await gw.startNode();
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    await gw.deliver('alice', [entry('before', ['tv'])]);
    await waitFor('the live push', () => ids(tv).length === 1, { timeoutMs: 3000 });
    // Its subscriber connections (on a Cluster, the sharded subscriber of each master), killed.
    let killed = 0;
    for (const node of masters(redis.client)) {
      const clients = String(await node.client('LIST')).split('\n');
      for (const line of clients.filter((l) => l.includes('gw-test-live-sub') && /ssub=[1-9]/.test(l))) {
        await node.client('KILL', 'ID', /id=(\d+)/.exec(line)![1]!);
        killed++;
      }
    }
    expect(killed, 'the live subscriber connections').to.be.at.least(1);
    // ioredis reconnects (a Cluster: replaces the subscriber) after 100 ms at the soonest: nobody hears these pushes.
    await gw.deliver('alice', [entry('missed-1', ['tv']), entry('missed-2', ['tv'])]);
    await waitFor('the missed pushes', () => ids(tv).length === 3);
    await gw.deliver('alice', [entry('after', ['tv'])]);
    await waitFor('the next push', () => ids(tv).length === 4);
    expect(ids(tv)).to.deep.equal(['before', 'missed-1', 'missed-2', 'after']);
    expect(tv.socket.connected).to.equal(true);
  });

  it('serves a high-priority message before a backlog of low-priority ones that arrived first', async () => {
    const node = await gw.startNode();
    const flooded = await gw.connect(node.url, { token: await gw.register('tv', 'acct-low') });
    const probe = await gw.connect(node.url, { token: await gw.register('tv', 'alice') });
    const lows = 200;
    const low = Array.from({ length: lows }, (_, i) => entry(`low-${i}`, ['tv'], { priority: 'low' }, 'acct-low'));
    const lowOutcomes = await gw.history.append('acct-low', low);
    const high = entry('high', ['tv'], { priority: 'high' });
    const [highOutcome] = await gw.history.append('alice', [high]);
    // One live message per low event, all sent before the high one.
    const partition = partitionOf('acct-low', 4);
    await Promise.all(
      low.map((e, i) =>
        gw.appendLive('low', partition, [
          JSON.stringify({
            pushes: [
              {
                accountId: 'acct-low',
                deviceIds: ['tv'],
                prev: lowOutcomes[i]!.prev,
                notification: {
                  id: e.id,
                  cursor: lowOutcomes[i]!.cursor,
                  type: e.type,
                  accountId: 'acct-low',
                  payload: e.payload,
                  createdAt: new Date(e.createdAt).toISOString(),
                  priority: 'low',
                },
              },
            ],
          }),
        ]),
      ),
    );
    let lowsBeforeHigh = -1;
    probe.socket.on('notification', () => (lowsBeforeHigh = flooded.notifications.length));
    await gw.push([{ entry: high, outcome: highOutcome!, deviceIds: ['tv'] }]);
    await waitFor('every push', () => ids(flooded).length === lows && ids(probe).length === 1);
    // Served in arrival order it would come after every low one; by priority it overtakes them.
    expect(lowsBeforeHigh).to.be.lessThan(lows / 2);
    expect(ids(flooded)).to.deep.equal(low.map((e) => e.id));
  });

  it('leaves messages past a full lane in their stream and reads them once the lane drains: none is lost', async () => {
    const node = await gw.startNode({ liveLaneLimit: 2 });
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    const entries = Array.from({ length: 100 }, (_, i) => entry(`e${i + 1}`, ['tv']));
    const outcomes = await gw.history.append('alice', entries);
    await Promise.all(entries.map((e, i) => gw.push([{ entry: e, outcome: outcomes[i]!, deviceIds: ['tv'] }])));
    await waitFor('every notification', () => ids(tv).length === 100);
    expect(ids(tv)).to.deep.equal(entries.map((e) => e.id));
    expect(tv.socket.connected).to.equal(true);
  });

  it('resyncs its connections from their delivered cursors when a live stream no longer reaches back to its position', async () => {
    const node = await gw.startNode({ liveCheckIntervalMs: 100 });
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    await gw.deliver('alice', [entry('e1', ['tv'])]);
    await waitFor('e1', () => ids(tv).length === 1, { timeoutMs: 3000 });
    // The stream starts anew (deleted by an operator): its counter goes back past this node.
    const partition = partitionOf('alice', 4);
    await redis.client.del(gw.keys.liveStream('medium', partition), gw.keys.liveSequence('medium', partition));
    await gw.history.append('alice', [entry('e2', ['tv'])]);
    await waitFor('the resync', async () => (await gapFills(node.url, 'lost')) > 0 && ids(tv).length === 2);
    expect(ids(tv)).to.deep.equal(['e1', 'e2']);
  });

  it('reads history for its connections when presence may have lapsed (heartbeats stalled past the ttl), so an entry routed without a push arrives', async () => {
    const node = await gw.startNode({ presenceTtlMs: 1000 });
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    // The router found the device offline (its presence had lapsed) and pushed nothing.
    await gw.history.append(ACCOUNT, [entry('unpushed', ['tv'])]);
    // Every client of Redis stalls past the presence ttl, the node's heartbeat with them.
    await Promise.all(masters(redis.client).map((node) => node.client('PAUSE', 1500, 'ALL')));
    await waitFor('the entry, from history', () => ids(tv).includes('unpushed'));
    expect(ids(tv)).to.deep.equal(['unpushed']);
    expect(await gapFills(node.url, 'lost')).to.equal(1);
  });

  it('tells a device its history cannot be read, and disconnects it, when Redis refuses the gap read (regression: a reconnect loop)', async () => {
    const node = await gw.startNode();
    const tv = await gw.connect(node.url, { token: await gw.register('tv') });
    const [first] = await gw.history.append('alice', [entry('e1', ['tv'])]);
    const e2 = entry('e2', ['tv']);
    const [second] = await gw.history.append('alice', [e2]);
    // A history key that cannot be read as a stream: the gap read fails.
    await redis.client.del(gw.keys.history('alice'));
    await redis.client.set(gw.keys.history('alice'), 'not a stream');
    await gw.push([{ entry: e2, outcome: { ...second!, prev: first!.cursor }, deviceIds: ['tv'] }]);
    const reason = await new Promise<string>((resolve) => tv.socket.once('disconnect', resolve));
    expect(reason, 'a server disconnect: socket.io-client does not retry').to.equal('io server disconnect');
    expect(tv.errors.map((e) => e.code)).to.deep.equal(['internal']);
    expect(tv.reconnectRequests).to.deep.equal([]);
  });

  it('takes its lane limit from HERALD_GATEWAY_LIVE_LANE_LIMIT and its partitions from HERALD_PARTITIONS_*', async () => {
    const wiring = createGatewayWiring(loadConfig({ HERALD_GATEWAY_LIVE_LANE_LIMIT: '7', HERALD_PARTITIONS_LOW: '9' }, 'gateway'), redis.url);
    try {
      expect(wiring.options.liveLaneLimit).to.equal(7);
      expect(wiring.options.partitions).to.deep.equal({ high: 4, medium: 4, low: 9 });
    } finally {
      await wiring.closeConnections();
    }
  });
});
