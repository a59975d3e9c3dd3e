import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { findRedisServer, startRedisServer } from '@herald/embedded-redis';
import { closeRedis, createRedis, unixSocketAddress } from '@herald/redis';
import { testRedisServer, useTestRedis } from './index.js';

describe('test harness', () => {
  const redis = useTestRedis();

  it('runs a real redis-server with noeviction on a free port', async () => {
    expect(findRedisServer()).to.be.a('string');
    expect(await redis.client.ping()).to.equal('PONG');
    const [, policy] = (await redis.client.config('GET', 'maxmemory-policy')) as string[];
    expect(policy).to.equal('noeviction');
    expect(redis.url).to.match(/^redis:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the same data over its Unix socket, which createRedis reaches through a unix:// URL', async () => {
    const { socketUrl } = await testRedisServer();
    expect(socketUrl).to.match(/^unix:\/\/\/.+\/redis\.sock$/);
    const overSocket = createRedis({ url: socketUrl!, name: 'herald-test-socket' });
    try {
      await redis.client.set(`${redis.prefix}:k`, 'v');
      expect(await overSocket.get(`${redis.prefix}:k`)).to.equal('v');
      const clients = (await redis.client.client('LIST')) as string;
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

  it('gives each test its own prefix', async () => {
    expect(redis.prefix).to.match(/^t-/);
    expect(await redis.client.keys(`${redis.prefix}:*`)).to.deep.equal([]);
  });
});
