import { expect } from 'chai';
import { keySlot } from '@herald/redis';
import { partitionOf } from '@herald/priority-streams';
import { testTopology } from '@herald/testing';
import { useFaultStack } from './faults.fixture.js';

/**
 * Exactly once to the device across Redis Cluster failovers, counted on raw socket receipts:
 * every accepted event reaches every targeted web device once, is in its account's history once,
 * and is pulled once by the account's iOS device.
 *
 * One stack of separate processes (ingest, one worker, two gateways) on a Cluster of 3 masters
 * with a replica each, the apps waiting for a replica's acknowledgement of what must survive a
 * failover (HERALD_REDIS_WAIT_REPLICAS=1); 20 accounts, each with a web device that reconnects
 * with its newest cursor and an iOS device that pulls. Each test: 150 events/s of mixed
 * priorities for 3 s, the failover, 3 s more load, drain, verify everything accepted so far.
 * Runs on the cluster run of `npm test` (it starts a Cluster of its own either way).
 */
describe('exactly once to the device across Redis Cluster failovers (3 masters, a replica each)', function () {
  this.timeout(180_000);
  before(function () {
    if (testTopology() !== 'cluster') this.skip();
  });
  const stack = useFaultStack({ accounts: 20, redis: 'cluster' });
  const RATE = 150;
  const LOAD_MS = 3_000;

  /** The slot of the busiest kind of key: a high-priority partition (of the first account). */
  const busySlot = () => keySlot(`{p:high:${partitionOf(stack.accounts[0]!, 4)}}`);

  async function around(fault: () => Promise<void>): Promise<void> {
    await stack.load.run(RATE, LOAD_MS);
    const load = stack.load.run(RATE, 2 * LOAD_MS);
    await fault();
    await load;
    const result = await stack.verify();
    expect(result.accepted).to.be.above(0);
    expect(result.lost, 'accepted events no web device got').to.deep.equal([]);
    expect(result.twice, 'events a web device got twice').to.deep.equal([]);
    expect(result.history, 'accounts whose history is not each accepted event once').to.deep.equal([]);
    expect(result.pull, 'accounts whose iOS pull is not each accepted event once').to.deep.equal([]);
  }

  it("loses and repeats nothing when the replica of a busy partition's master takes over by CLUSTER FAILOVER under load", async () => {
    const { master, replica } = await stack.cluster.masterAndReplica(busySlot());
    await around(async () => {
      await replica.cli('CLUSTER', 'FAILOVER');
      await stack.cluster.waitUntilMaster(replica);
    });
    expect((await stack.cluster.masterAndReplica(busySlot())).master.port, 'the replica serves the slot').to.equal(replica.port);
    expect(master.port).not.to.equal(replica.port);
  });

  it("loses and repeats nothing when a busy partition's master is killed (kill -9) and its replica takes over", async () => {
    const { master, replica } = await stack.cluster.masterAndReplica(busySlot());
    await around(async () => {
      await master.kill9();
      await stack.cluster.waitUntilMaster(replica);
      // The killed node comes back as the new master's replica.
      await master.start();
    });
    await stack.cluster.waitUntilHealthy();
    expect((await stack.cluster.masterAndReplica(busySlot())).master.port, 'the replica serves the slot').to.equal(replica.port);
  });
});
