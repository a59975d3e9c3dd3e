import type { Priority } from '@herald/contracts';
import { RedisScript } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';

const lua = new URL('../../lua/', import.meta.url);
const renewLease = RedisScript.fromFile(lua, 'renew-lease-1');
const releaseLease = RedisScript.fromFile(lua, 'release-lease-1');

export interface PartitionLeasesOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  priority: Priority;
  partitions: number;
  workerId: string;
  leaseMs: number;
  now?: () => number;
}

/**
 * Who routes which partition of one priority. Each partition has at most one holder at a time:
 * a lease with an expiry that its holder renews. Live workers register in a sorted set with
 * their own expiry; each aims at its fair share, ceil(partitions / live workers), taking free
 * partitions and giving back extra ones, so every partition has a holder, partitions spread
 * out as workers come and go, and a dead worker's partitions are taken over when its leases
 * expire.
 */
export class PartitionLeases {
  private readonly held = new Set<number>();
  private readonly now: () => number;

  constructor(private readonly options: PartitionLeasesOptions) {
    this.now = options.now ?? Date.now;
  }

  get owned(): ReadonlySet<number> {
    return this.held;
  }

  /** How many partitions this worker should hold now. */
  async fairShare(): Promise<number> {
    const { redis, keys, priority, workerId, leaseMs, partitions } = this.options;
    const now = this.now();
    const routers = keys.routers(priority);
    const [, , [, live]] = (await redis
      .multi()
      .zadd(routers, now + leaseMs, workerId)
      .zremrangebyscore(routers, '-inf', now)
      .zcard(routers)
      .exec()) as [unknown, unknown, [Error | null, number]];
    return Math.ceil(partitions / Math.max(1, live));
  }

  /**
   * Renews the leases held, gives back those past the fair share (the caller stops routing
   * them first: they are returned in `release`), and tries to take free ones.
   * Returns what changed.
   */
  async rebalance(): Promise<{ acquired: number[]; lost: number[]; release: number[] }> {
    const { redis, keys, priority, workerId, leaseMs, partitions } = this.options;
    const share = await this.fairShare();
    const lost: number[] = [];
    for (const partition of this.held) {
      const renewed = await renewLease.run(redis, [keys.lease(priority, partition)], [workerId, leaseMs]);
      if (renewed !== 1) {
        this.held.delete(partition);
        lost.push(partition);
      }
    }
    const release = [...this.held].slice(share);
    const acquired: number[] = [];
    if (this.held.size < share) {
      // Start at a different partition in each worker so they don't all race for the same one.
      const start = Math.abs(hash(workerId)) % partitions;
      for (let i = 0; i < partitions && this.held.size + acquired.length < share; i++) {
        const partition = (start + i) % partitions;
        if (this.held.has(partition)) continue;
        if ((await renewLease.run(redis, [keys.lease(priority, partition)], [workerId, leaseMs])) === 1) acquired.push(partition);
      }
      for (const partition of acquired) this.held.add(partition);
    }
    return { acquired, lost, release };
  }

  async release(partition: number): Promise<void> {
    this.held.delete(partition);
    await releaseLease.run(this.options.redis, [this.options.keys.lease(this.options.priority, partition)], [this.options.workerId]);
  }

  /** Gives back every lease and leaves the live set (graceful shutdown). */
  async releaseAll(): Promise<void> {
    for (const partition of [...this.held]) await this.release(partition);
    await this.options.redis.zrem(this.options.keys.routers(this.options.priority), this.options.workerId);
  }
}

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}
