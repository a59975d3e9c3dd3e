import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { findRedisServer, startRedisServer } from '@herald/embedded-redis';
import { closeRedis, createRedis, isCluster, masters, unixSocketAddress } from '@herald/redis';
import { keysByMaster, testRedisServer, testTopology, useTestRedis } from './index.js';

describe('test harness', () => {
  const redis = useTestRedis();

  it('runs real redis-servers with noeviction on free ports, one or a 3-master Cluster as HERALD_TEST_REDIS asks', async () => {
    expect(findRedisServer()).to.be.a('string');
    expect(redis.topology).to.equal(testTopology());
    expect(await redis.client.ping()).to.equal('PONG');
    const nodes = masters(redis.client);
    expect(nodes).to.have.length(redis.topology === 'cluster' ? 3 : 1);
    for (const node of nodes) {
      const [, policy] = (await node.config('GET', 'maxmemory-policy')) as string[];
      expect(policy).to.equal('noeviction');
    }
    expect(redis.url).to.match(redis.topology === 'cluster' ? /^redis\+cluster:\/\/127\.0\.0\.1:\d+$/ : /^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(isCluster(redis.client)).to.equal(redis.topology === 'cluster');
  });

  it('gives a cluster run masters that each own a third of the slots', async function () {
    if (redis.topology !== 'cluster') this.skip();
    const slots = (await redis.client.cluster('SLOTS')) as [number, number, ...unknown[]][];
    const owned = slots.map(([from, to]) => to - from + 1);
    expect(owned.reduce((sum, n) => sum + n, 0)).to.equal(16384);
    expect(owned).to.have.length(3);
    for (const n of owned) expect(n).to.be.within(5460, 5462);
  });

  it('serves the same data over its Unix socket, which createRedis reaches through a unix:// URL', async function () {
    const { socketUrl } = await testRedisServer();
    if (redis.topology === 'cluster') this.skip();
    expect(socketUrl).to.match(/^unix:\/\/\/.+\/redis\.sock$/);
    const overSocket = createRedis({ url: socketUrl!, name: 'herald-test-socket' });
    try {
      await redis.client.set(`${redis.prefix}:k`, 'v');
      expect(await overSocket.get(`${redis.prefix}:k`)).to.equal('v');
      const clients = (await masters(redis.client)[0]!.client('LIST')) as string;
      expect(clients.split('\n').find((line) => line.includes('name=herald-test-socket'))).to.match(/ addr=\/\S+redis\.sock:0 /);
    } finally {
      await closeRedis(overSocket);
    }
    expect(unixSocketAddress('unix:///run/redis.sock?db=3')).to.deep.equal({ path: '/run/redis.sock', db: 3 });
    expect(unixSocketAddress('redis://127.0.0.1:6379')).to.equal(undefined);
  });

  it('starts without a Unix socket, TCP only, where the socket path would be too long', async function () {
    this.timeout(30_000);
    const dir = join(mkdtempSync(join(tmpdir(), 'herald-deep-')), 'd'.repeat(100));
    const server = await startRedisServer({ dir, appendOnly: false });
    try {
      expect(server.socketUrl).to.equal(undefined);
      const client = createRedis({ url: server.url });
      expect(await client.ping()).to.equal('PONG');
      await closeRedis(client);
    } finally {
      await server.stop();
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });

  it('gives each test its own prefix, and finds its keys on every master', async () => {
    expect(redis.prefix).to.match(/^t-/);
    expect(await keysByMaster(redis.client, redis.prefix)).to.deep.equal(new Map());
    // Two tags that hash to different masters of a 3-master Cluster (slots 15495 and 7365).
    await redis.client.set(`${redis.prefix}:{a}:k`, '1');
    await redis.client.set(`${redis.prefix}:{c}:k`, '1');
    expect(await redis.masters()).to.have.length(redis.topology === 'cluster' ? 2 : 1);
  });
});
