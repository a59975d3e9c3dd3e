import type { Priority } from '@herald/contracts';
import type { Logger } from '@herald/runtime';
import type { YieldGate } from '@herald/overload';
import { closeRedis } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { WorkerMetrics } from '../worker-metrics.js';
import type { BatchRouter } from './batch-router.js';
import { PartitionConsumer } from './partition-consumer.js';
import { PartitionLeases } from './partition-leases.js';
import { Slots } from './slots.js';

export interface RouterOptions {
  redis: RedisClient;
  /** Opens a dedicated connection for one consumer's blocking reads. */
  connect: (name: string) => RedisClient;
  keys: KeyBuilder;
  workerId: string;
  priorities: readonly Priority[];
  partitions: Record<Priority, number>;
  batchSize: Record<Priority, number>;
  concurrency: Record<Priority, number>;
  leaseMs: number;
  reclaimIdleMs: number;
  maxDeliveries: number;
  blockMs?: number;
  /** The batch router of each priority this process routes. */
  routers: Partial<Record<Priority, BatchRouter>>;
  /** Load shedding: yielding priorities read smaller batches, pause between them, and run fewer at once. */
  yielding?: YieldGate | undefined;
  metrics: WorkerMetrics;
  logger: Logger;
}

interface Running {
  consumer: PartitionConsumer;
  connection: RedisClient;
}

/**
 * The router role: for each priority it runs, keeps the partition leases balanced across the
 * live workers and one PartitionConsumer per partition it holds.
 */
export class Router {
  private readonly leases = new Map<Priority, PartitionLeases>();
  /** Per priority: how many of its partitions may route a batch at the same time. */
  private readonly slots = new Map<Priority, Slots>();
  private readonly running = new Map<string, Running>();
  private timer: NodeJS.Timeout | undefined;
  private rebalancing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: RouterOptions) {
    for (const priority of options.priorities) {
      this.routerOf(priority);
      this.leases.set(
        priority,
        new PartitionLeases({
          redis: options.redis,
          keys: options.keys,
          priority,
          partitions: options.partitions[priority],
          workerId: options.workerId,
          leaseMs: options.leaseMs,
        }),
      );
      const { yielding } = options;
      const concurrency = options.concurrency[priority];
      this.slots.set(priority, new Slots(concurrency, yielding === undefined ? undefined : () => yielding.scaled(priority, concurrency)));
    }
  }

  /** The partitions held now, per priority (for logs and tests). */
  owned(): Record<string, number[]> {
    return Object.fromEntries([...this.leases].map(([priority, leases]) => [priority, [...leases.owned].sort((a, b) => a - b)]));
  }

  async start(): Promise<void> {
    await this.rebalance();
    this.timer = setInterval(
      () => {
        this.rebalancing = this.rebalancing
          .then(() => this.rebalance())
          .catch((error: unknown) => {
            this.options.logger.error({ err: error }, 'rebalancing partitions failed');
          });
      },
      Math.max(50, Math.floor(this.options.leaseMs / 3)),
    );
  }

  /** Stops reading, lets the batches in flight finish, and gives the leases back. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.rebalancing;
    await Promise.all([...this.running.keys()].map((key) => this.stopConsumer(key)));
    for (const leases of this.leases.values()) await leases.releaseAll();
  }

  private async rebalance(): Promise<void> {
    if (this.stopped) return;
    for (const [priority, leases] of this.leases) {
      const { acquired, lost, release } = await leases.rebalance();
      for (const partition of lost) {
        this.options.logger.warn({ priority, partition }, 'lease lost; stopping that partition');
        await this.stopConsumer(key(priority, partition));
      }
      for (const partition of release) {
        await this.stopConsumer(key(priority, partition));
        await leases.release(partition);
      }
      for (const partition of acquired) this.startConsumer(priority, partition);
      if (acquired.length + lost.length + release.length > 0) {
        this.options.logger.info({ priority, partitions: [...leases.owned] }, 'partitions rebalanced');
      }
    }
  }

  private routerOf(priority: Priority): BatchRouter {
    const router = this.options.routers[priority];
    if (router === undefined) throw new Error(`no batch router for priority ${priority}`);
    return router;
  }

  private startConsumer(priority: Priority, partition: number): void {
    const { options } = this;
    const connection = options.connect(`herald-router-${priority}-${partition}`);
    const consumer = new PartitionConsumer({
      redis: options.redis,
      blocking: connection,
      keys: options.keys,
      priority,
      partition,
      workerId: options.workerId,
      batchSize: options.batchSize[priority],
      reclaimIdleMs: options.reclaimIdleMs,
      maxDeliveries: options.maxDeliveries,
      router: this.routerOf(priority),
      slots: this.slots.get(priority)!,
      yielding: options.yielding,
      metrics: options.metrics,
      logger: options.logger,
      ...(options.blockMs === undefined ? {} : { blockMs: options.blockMs }),
    });
    this.running.set(key(priority, partition), { consumer, connection });
    consumer.start();
  }

  private async stopConsumer(id: string): Promise<void> {
    const running = this.running.get(id);
    if (running === undefined) return;
    this.running.delete(id);
    await running.consumer.stop();
    await closeRedis(running.connection);
  }
}

const key = (priority: Priority, partition: number) => `${priority}:${partition}`;
