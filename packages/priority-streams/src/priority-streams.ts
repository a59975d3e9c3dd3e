import { PRIORITIES } from '@herald/contracts';
import type { AcceptedEvent, Priority } from '@herald/contracts';
import { RedisScript } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { partitionOf } from './partition.js';

const acceptEvents = RedisScript.fromFile(new URL('../lua/', import.meta.url), 'accept-events');

export interface PriorityStreamSettings {
  partitions: number;
  /** Entries in one partition past which appends to it are refused. */
  backlogLimit: number;
}

export interface PriorityStreamsOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  priorities: Record<Priority, PriorityStreamSettings>;
  /** How long an event id is remembered for idempotency. */
  dedupWindowMs: number;
  /** `Retry-After` given when a priority is over its backlog limit (default 1 s). */
  retryAfterSeconds?: number;
}

export type AppendResult =
  | { status: 'accepted'; streamId: string }
  | { status: 'duplicate' }
  | { status: 'backlog_exceeded'; retryAfterSeconds: number };

/**
 * The write side of the priority streams: the only code that appends to them. Events are
 * grouped per partition and appended with one atomic script call per partition.
 */
export class PriorityStreams {
  private readonly options: Required<PriorityStreamsOptions>;

  constructor(options: PriorityStreamsOptions) {
    for (const priority of PRIORITIES) {
      const settings = options.priorities[priority];
      if (!Number.isInteger(settings.partitions) || settings.partitions < 1) {
        throw new RangeError(`partitions of ${priority} must be a positive integer`);
      }
      if (!Number.isInteger(settings.backlogLimit) || settings.backlogLimit < 1) {
        throw new RangeError(`backlogLimit of ${priority} must be a positive integer`);
      }
    }
    if (!(options.dedupWindowMs > 0)) throw new RangeError('dedupWindowMs must be positive');
    this.options = { retryAfterSeconds: 1, ...options };
  }

  partitionOf(priority: Priority, accountId: string): number {
    return partitionOf(accountId, this.options.priorities[priority].partitions);
  }

  /** The stream keys of a priority, one per partition. */
  streamKeys(priority: Priority): string[] {
    const { partitions } = this.options.priorities[priority];
    return Array.from({ length: partitions }, (_, partition) => this.options.keys.stream(priority, partition));
  }

  /** Appends events; results come back in the order of the events. */
  async append(events: readonly AcceptedEvent[]): Promise<AppendResult[]> {
    const groups = new Map<string, { priority: Priority; partition: number; indexes: number[] }>();
    events.forEach((event, index) => {
      const partition = this.partitionOf(event.priority, event.accountId);
      const stream = this.options.keys.stream(event.priority, partition);
      let group = groups.get(stream);
      if (group === undefined) {
        group = { priority: event.priority, partition, indexes: [] };
        groups.set(stream, group);
      }
      group.indexes.push(index);
    });

    const results = new Array<AppendResult>(events.length);
    await Promise.all(
      [...groups].map(async ([stream, { priority, partition, indexes }]) => {
        const { keys, dedupWindowMs, retryAfterSeconds } = this.options;
        const { backlogLimit } = this.options.priorities[priority];
        const marks = indexes.map((index) => keys.seen(priority, partition, events[index]!.id));
        const args: (string | number)[] = [backlogLimit, backlogLimit * 2, dedupWindowMs];
        for (const index of indexes) args.push(JSON.stringify(events[index]));
        let reply: unknown;
        try {
          reply = await acceptEvents.run(this.options.redis, [stream, ...marks], args);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('BACKLOG')) {
            for (const index of indexes) results[index] = { status: 'backlog_exceeded', retryAfterSeconds };
            return;
          }
          throw error;
        }
        const ids = reply as (string | number)[];
        indexes.forEach((index, i) => {
          const id = ids[i];
          results[index] = typeof id === 'string' ? { status: 'accepted', streamId: id } : { status: 'duplicate' };
        });
      }),
    );
    return results;
  }

  /** Entries held per partition of a priority (XLEN), the measure the backlog limit applies to. */
  async backlog(priority: Priority): Promise<number[]> {
    const pipeline = this.options.redis.pipeline();
    for (const key of this.streamKeys(priority)) pipeline.xlen(key);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, length]) => {
      if (error) throw error;
      return Number(length);
    });
  }
}
