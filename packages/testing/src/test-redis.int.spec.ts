import { expect } from 'chai';
import { findRedisServer } from '@herald/embedded-redis';
import { useTestRedis } from './index.js';

describe('test harness', () => {
  const redis = useTestRedis();

  it('runs a real redis-server with noeviction on a free port', async () => {
    expect(findRedisServer()).to.be.a('string');
    expect(await redis.client.ping()).to.equal('PONG');
    const [, policy] = (await redis.client.config('GET', 'maxmemory-policy')) as string[];
    expect(policy).to.equal('noeviction');
    expect(redis.url).to.match(/^redis:\/\/127\.0\.0\.1:\d+$/);
  });

  it('gives each test its own prefix', async () => {
    expect(redis.prefix).to.match(/^t-/);
    expect(await redis.client.keys(`${redis.prefix}:*`)).to.deep.equal([]);
  });
});
