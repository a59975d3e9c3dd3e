import { expect } from 'chai';
import { waitFor } from '@herald/testing';
import { LOAD_TYPES, useFaultStack } from './faults.fixture.js';
import type { AppProcess } from './faults.fixture.js';

/**
 * Exactly once to the device, under faults, counted on raw socket receipts (no SDK duplicate
 * filter): every accepted event reaches every targeted web device once, is in its account's
 * history once, and is pulled once by the account's iOS device.
 *
 * One stack of separate processes (Redis with `appendfsync always`, ingest, one worker, two
 * gateways; 20 accounts, each with a web device that reconnects with its newest cursor to the
 * other gateway, and an iOS device that pulls). Each test: 150 events/s of mixed priorities
 * for 3 s, `kill -9` of one part, 2 s down, restart, 3 s more load, drain, verify everything
 * accepted so far.
 */
describe('exactly once to the device, under faults (separate processes, kill -9)', function () {
  this.timeout(120_000);
  const stack = useFaultStack({ accounts: 20 });
  const RATE = 150;
  const LOAD_MS = 3_000;
  const DOWN_MS = 2_000;

  async function around(fault: () => Promise<void>, restart: () => Promise<void>): Promise<void> {
    await stack.load.run(RATE, LOAD_MS);
    const load = stack.load.run(RATE, DOWN_MS + LOAD_MS);
    await fault();
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    await restart();
    await load;
    const result = await stack.verify();
    expect(result.accepted).to.be.above(0);
    expect(result.lost, 'accepted events no web device got').to.deep.equal([]);
    expect(result.twice, 'events a web device got twice').to.deep.equal([]);
    expect(result.history, 'accounts whose history is not each accepted event once').to.deep.equal([]);
    expect(result.pull, 'accounts whose iOS pull is not each accepted event once').to.deep.equal([]);
  }

  const killAndRestart = (app: () => AppProcess) =>
    around(
      () => app().kill9(),
      () => app().start(),
    );

  it('loses and repeats nothing when Redis is killed and restarted under load (devices stay connected)', async () => {
    await around(
      () => stack.redis.kill9(),
      () => stack.redis.start(),
    );
  });

  it('loses and repeats nothing when a gateway is killed under load and its devices fail over to the other', async () => {
    const before = stack.web.reduce((sum, d) => sum + d.reconnects, 0);
    await killAndRestart(() => stack.gateways[0]!);
    expect(
      stack.web.reduce((sum, d) => sum + d.reconnects, 0),
      'devices failed over',
    ).to.be.above(before);
  });

  it('loses and repeats nothing when the worker is killed under load', async () => {
    await killAndRestart(() => stack.workers[0]!);
  });

  it('loses and repeats nothing when ingest is killed under load', async () => {
    await killAndRestart(() => stack.ingest);
  });
});

/**
 * The reorder of issue 14 (regression: 0/10 delivered): medium-priority delivery is held up (no
 * medium delivery worker), a high-priority event for the same account is pushed, the device's
 * gateway is killed, the device reconnects to the other gateway with its newest cursor, and only
 * then does medium delivery start. 10 accounts, one medium then one high event each.
 */
describe('exactly once to the device when a push overtakes one still in flight and the device reconnects', function () {
  this.timeout(120_000);
  const stack = useFaultStack({
    accounts: 10,
    workers: [
      { HERALD_WORKER_PRIORITIES: 'high,low' },
      // Routes medium (history and jobs), delivers nothing: medium pushes wait in their queue.
      { HERALD_WORKER_PRIORITIES: 'medium', HERALD_WORKER_ROLES: 'router' },
    ],
  });

  it('delivers the overtaken notification once, before the one that overtook it, whichever gateway the device ends on', async () => {
    const [high, medium] = [LOAD_TYPES[0], LOAD_TYPES[1]];
    const pairs = [];
    for (const accountId of stack.accounts) {
      const slow = await stack.load.send(accountId, medium);
      // Routed (in history, its push queued) before the high one is sent.
      await waitFor('the medium event in history', async () => (await stack.historyIds(accountId)).includes(slow.id), { timeoutMs: 10_000, intervalMs: 100 });
      const fast = await stack.load.send(accountId, high);
      pairs.push({ accountId, slow, fast });
    }
    // Both reach every device, in cursor order: the medium one read from history first.
    await waitFor('both events on every device', () => stack.web.every((d) => d.received.length >= 2), { timeoutMs: 15_000, intervalMs: 100 });
    for (const device of stack.web) {
      const pair = pairs.find((p) => p.accountId === device.accountId)!;
      expect(
        device.received.map((n) => n.id),
        device.accountId,
      ).to.deep.equal([pair.slow.id, pair.fast.id]);
    }
    // Devices on gateway a move to b with their newest cursor (the high event's).
    await stack.gateways[0]!.kill9();
    await waitFor('devices back', async () => (await stack.onlineWebDevices()) === stack.accounts.length, { timeoutMs: 15_000, intervalMs: 100 });
    // Medium delivery starts at last: its pushes reach devices that have them.
    await stack.gateways[0]!.start();
    const mediumWorker = stack.workers[1]!;
    await mediumWorker.stop();
    mediumWorker.setEnv({ HERALD_WORKER_ROLES: 'router,delivery' });
    await mediumWorker.start();
    const result = await stack.verify(15_000);
    expect(result.lost, 'accepted events no web device got').to.deep.equal([]);
    expect(result.twice, 'events a web device got twice').to.deep.equal([]);
    expect(result.history).to.deep.equal([]);
    expect(result.pull).to.deep.equal([]);
  });
});
