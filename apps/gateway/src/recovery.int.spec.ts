import { expect } from 'chai';
import { History, compareCursors, toNotification } from '@herald/history';
import { useTestRedis, waitFor } from '@herald/testing';
import { ACCOUNT, entry, useGateways } from './gateway.fixture.js';

describe('gateway recovery', () => {
  const redis = useTestRedis();
  const gw = useGateways(redis, { maxLength: 1000 });

  it('replays what the device missed, targeted at it and in order, then sends synced', async () => {
    const node = await gw.startNode();
    const token = await gw.register('tv');
    const [seen] = await gw.history.append('alice', [entry('seen', ['tv'])]);
    const missed = await gw.history.append('alice', [entry('m1', ['tv', 'web']), entry('other', ['web']), entry('m2', ['tv'])]);
    const device = await gw.connect(node.url, { token, cursor: seen!.cursor });
    expect(device.notifications.map((n) => n.id)).to.deep.equal(['m1', 'm2']);
    expect(device.notifications[0]).to.deep.equal(toNotification(missed[0]!.cursor, entry('m1', ['tv', 'web'])));
    expect(device.synced).to.deep.equal([{ cursor: missed[2]!.cursor, replayed: 2, reset: false }]);
  });

  it('recovers in full on another node after the node that held the device is gone', async () => {
    const [a, b] = [await gw.startNode({ nodeId: 'a' }), await gw.startNode({ nodeId: 'b' })];
    const token = await gw.register('tv');
    const onA = await gw.connect(a.url, { token });
    await gw.deliver('alice', [entry('e1', ['tv'])]);
    await waitFor('the push to a', () => onA.notifications.length === 1, { timeoutMs: 3000 });
    await a.close();
    // While the device is away, more happens; the worker's pushes reach no socket.
    const missed = await gw.deliver('alice', [entry('e2', ['tv']), entry('e3', ['tv'])]);
    const onB = await gw.connect(b.url, { token, cursor: onA.notifications[0]!.cursor });
    expect(onB.notifications.map((n) => n.id)).to.deep.equal(['e2', 'e3']);
    expect(onB.synced[0]).to.deep.equal({ cursor: missed[1]!.cursor, replayed: 2, reset: false });
    expect([...(await gw.presence.onlineDevices('alice'))]).to.deep.equal(['tv']);
  });

  it('tells a device whose history Redis refuses to read why, and disconnects it instead of asking it to reconnect (regression: a reconnect loop)', async () => {
    const node = await gw.startNode();
    const token = await gw.register('tv');
    const [seen] = await gw.history.append(ACCOUNT, [entry('seen', ['tv'])]);
    await redis.client.del(gw.keys.history(ACCOUNT));
    await redis.client.set(gw.keys.history(ACCOUNT), 'not a stream');
    const device = gw.open(node.url, { token, cursor: seen!.cursor });
    const reason = await new Promise<string>((resolve) => device.socket.once('disconnect', resolve));
    expect(reason).to.equal('io server disconnect');
    expect(device.errors.map((e) => e.code)).to.deep.equal(['internal']);
    expect(device.reconnectRequests).to.deep.equal([]);
  });

  it('sends reset and replays nothing when the cursor is older than the retained history', async () => {
    const node = await gw.startNode();
    const token = await gw.register('tv');
    const trimmed = new History({ redis: redis.client, keys: gw.keys, maxLength: 2 });
    const outcomes = await trimmed.append(
      'alice',
      ['e1', 'e2', 'e3', 'e4'].map((id) => entry(id, ['tv'])),
    );
    const device = await gw.connect(node.url, { token, cursor: outcomes[0]!.cursor });
    expect(device.notifications).to.deep.equal([]);
    expect(device.synced).to.deep.equal([{ cursor: outcomes[3]!.cursor, replayed: 0, reset: true }]);
  });

  for (const [title, options] of [
    ['replays while live pushes race it without duplicates or gaps', { replayPageSize: 7 }],
    ['re-reads from history when live pushes overflow the hold during a replay, still without duplicates or gaps', { replayPageSize: 7, liveBufferLimit: 3 }],
  ] as const) {
    it(title, async () => {
      const node = await gw.startNode(options);
      const token = await gw.register('tv');
      const cursors: string[] = [];
      // What the worker does for each notification: append to history, then push live.
      const publish = async (id: string, devices: string[]) => {
        const [outcome] = await gw.deliver('alice', [entry(id, devices)]);
        if (devices.includes('tv')) cursors.push(outcome!.cursor);
      };
      const [seed] = await gw.history.append('alice', [entry('seed', ['tv'])]);
      for (let i = 0; i < 120; i++) await publish(`old-${i}`, i % 5 === 0 ? ['web'] : ['tv']);
      const device = gw.open(node.url, { token, cursor: seed!.cursor });
      let racing = true;
      const race = (async () => {
        for (let i = 0; racing || i < 20; i++) {
          await publish(`new-${i}`, ['tv']);
          if (i > 400) break;
        }
      })();
      await waitFor('synced', () => device.synced.length > 0);
      racing = false;
      await race;
      await waitFor('every notification', () => device.notifications.length >= cursors.length);
      // A marker sent after everything else: once it is in, nothing else is on its way.
      await publish('marker', ['tv']);
      await waitFor('the marker', () => device.notifications.at(-1)?.id === 'marker');
      device.notifications.pop();
      cursors.pop();
      const received = device.notifications.map((n) => n.cursor);
      expect(received).to.have.length(cursors.length);
      expect(received).to.deep.equal(cursors);
      for (let i = 1; i < received.length; i++) expect(compareCursors(received[i - 1]!, received[i]!)).to.equal(-1);
      expect(device.synced[0]!.replayed).to.be.at.least(96);
      // The race did happen: pushes of notifications the replay had sent arrived, and were dropped.
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      expect(Number(/herald_gateway_notifications_dropped_total\{reason="duplicate"[^}]*\} (\d+)/.exec(metrics)?.[1])).to.be.above(0);
    });
  }
});
