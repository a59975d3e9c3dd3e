import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CLUSTER_UNPIPELINED_COMMANDS, createRedis, isCluster, parseClusterUrl, parseHostPort } from './index.js';

describe('redis connections', () => {
  it("log their errors with the connection's name when given a logger, and keep reconnecting", async () => {
    const warnings: { connection: string | undefined; message: string; err: Error }[] = [];
    const client = createRedis({
      // A socket file that does not exist: every connection attempt fails at once.
      url: `unix://${join(tmpdir(), `herald-no-redis-${randomUUID()}.sock`)}`,
      name: 'herald-test-unreachable',
      logger: { warn: ({ err, connection }, message) => warnings.push({ err, connection, message }) },
    });
    try {
      const deadline = Date.now() + 5000;
      while (warnings.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(warnings.length, 'a warning per failed attempt').to.be.at.least(2);
      expect(warnings[0]).to.include({ connection: 'herald-test-unreachable', message: 'redis connection error' });
      expect(warnings[0]!.err.message).to.match(/ENOENT/);
    } finally {
      client.disconnect();
    }
  });

  it("are a Cluster client for a redis+cluster:// URL, seeded with the URL's node and REDIS_CLUSTER_NODES", () => {
    const client = createRedis({ url: 'redis+cluster://127.0.0.1:1', clusterNodes: ['127.0.0.1:2'], autoPipelining: true });
    try {
      expect(isCluster(client)).to.equal(true);
      if (!isCluster(client)) return;
      expect(client.options.autoPipeliningIgnoredCommands).to.deep.equal([...CLUSTER_UNPIPELINED_COMMANDS]);
      expect(client.options.scaleReads).to.equal('master');
    } finally {
      client.disconnect();
    }
    expect(() => createRedis({ url: 'redis://127.0.0.1:1', clusterNodes: ['127.0.0.1:2'] })).to.throw(/not a redis\+cluster:\/\/ URL/);
  });

  it('read credentials, TLS and seeds from a Cluster URL', () => {
    expect(parseClusterUrl('rediss+cluster://herald:s%40cret@redis.example.com:6380', ['b.example.com:6381', '[::1]:7000'])).to.deep.equal({
      seeds: [
        { host: 'redis.example.com', port: 6380 },
        { host: 'b.example.com', port: 6381 },
        { host: '::1', port: 7000 },
      ],
      username: 'herald',
      password: 's@cret',
      tls: true,
    });
    expect(parseClusterUrl('redis+cluster://10.0.0.1').seeds).to.deep.equal([{ host: '10.0.0.1', port: 6379 }]);
    expect(() => parseClusterUrl('redis+cluster://10.0.0.1:7000/3')).to.throw(/database 0 only/);
    expect(() => parseHostPort('10.0.0.1')).to.throw(/not host:port/);
  });
});
