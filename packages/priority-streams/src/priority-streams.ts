import { PRIORITIES } from '@herald/contracts';
import type { AcceptedEvent, Priority } from '@herald/contracts';
import { RedisScript, RedisTimeBuckets, serverOf, waitForReplicas } from '@herald/redis';
import type { KeyBuilder, RedisClient, ReplicaAcks } from '@herald/redis';
import { partitionOf } from './partition.js';

const acceptEvents = RedisScript.fromFile(new URL('../lua/', import.meta.url), 'accept-events-5');

export interface PriorityStreamSettings {
  partitions: number;
  /** Events in one partition, appended and not yet acknowledged, past which appends are refused. */
  backlogLimit: number;
}

export interface PriorityStreamsOptions {
  redis: RedisClient;
  /**
   * The connection each priority's appends go through (default: `redis`). Redis serves one
   * connection's commands in order, so with one shared connection a high-priority append waits
   * behind every low-priority script queued before it; a connection per priority lets Redis
   * serve it at its next turn.
   */
  appenders?: Partial<Record<Priority, RedisClient>>;
  keys: KeyBuilder;
  priorities: Record<Priority, PriorityStreamSettings>;
  /** How long an event id is remembered for idempotency. */
  dedupWindowMs: number;
  /** `Retry-After` given when a priority is over its backlog limit (default 1 s). */
  retryAfterSeconds?: number;
  /** Most events one script call (and so one stream entry) takes (default 1000). */
  maxEventsPerEntry?: number;
  /**
   * Replicas that must have an accepted event before append resolves (WAIT; default none). When
   * fewer answer in time, the append rejects with a ReplicationTimeoutError: the caller must not
   * call it accepted, and a retry with the same id is safe (it answers duplicate).
   */
  replicaAcks?: ReplicaAcks;
}

export type AppendResult = { status: 'accepted'; entryId: string } | { status: 'duplicate' } | { status: 'backlog_exceeded'; retryAfterSeconds: number };

/** Events of one append call bound for one partition, waiting for the next flush. */
interface PendingAppend {
  events: AcceptedEvent[];
  settle: (results: AppendResult[] | Error) => void;
}

interface PartitionQueue {
  priority: Priority;
  partition: number;
  appends: PendingAppend[];
}

/**
 * The write side of the priority streams: the only code that appends to them.
 *
 * Appends made in the same tick are coalesced per partition, so many concurrent single-event
 * requests cost one script call, and each call writes one stream entry holding its events in
 * acceptance order. The script checks the backlog, marks ids and appends atomically.
 */
export class PriorityStreams {
  private readonly options: Required<Omit<PriorityStreamsOptions, 'appenders'>>;
  private readonly appenders: Record<Priority, RedisClient>;
  private readonly queues = new Map<string, PartitionQueue>();
  private flushScheduled = false;
  private readonly buckets: RedisTimeBuckets;

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
    const maxEventsPerEntry = options.maxEventsPerEntry ?? 1000;
    // The accept script unpacks one call's ids into single commands; Lua's stack allows ~8000.
    if (!Number.isInteger(maxEventsPerEntry) || maxEventsPerEntry < 1 || maxEventsPerEntry > 5000) {
      throw new RangeError('maxEventsPerEntry must be an integer in 1..5000');
    }
    const { appenders = {}, ...rest } = options;
    this.options = { retryAfterSeconds: 1, replicaAcks: { replicas: 0, timeoutMs: 1000 }, ...rest, maxEventsPerEntry };
    this.appenders = { high: appenders.high ?? options.redis, medium: appenders.medium ?? options.redis, low: appenders.low ?? options.redis };
    this.buckets = new RedisTimeBuckets(options.dedupWindowMs);
  }

  partitionOf(priority: Priority, accountId: string): number {
    return partitionOf(accountId, this.options.priorities[priority].partitions);
  }

  /** The stream keys of a priority, one per partition. */
  streamKeys(priority: Priority): string[] {
    return this.partitions(priority).map((partition) => this.options.keys.stream(priority, partition));
  }

  /** Appends events; results come back in the order of the events. */
  async append(events: readonly AcceptedEvent[]): Promise<AppendResult[]> {
    const byPartition = new Map<string, { queue: PartitionQueue; indexes: number[] }>();
    events.forEach((event, index) => {
      const partition = this.partitionOf(event.priority, event.accountId);
      const stream = this.options.keys.stream(event.priority, partition);
      let group = byPartition.get(stream);
      if (group === undefined) {
        let queue = this.queues.get(stream);
        if (queue === undefined) {
          queue = { priority: event.priority, partition, appends: [] };
          this.queues.set(stream, queue);
        }
        group = { queue, indexes: [] };
        byPartition.set(stream, group);
      }
      group.indexes.push(index);
    });

    const results = new Array<AppendResult>(events.length);
    const settled = [...byPartition.values()].map(
      ({ queue, indexes }) =>
        new Promise<void>((resolve, reject) => {
          queue.appends.push({
            events: indexes.map((index) => events[index]!),
            settle: (outcome) => {
              if (outcome instanceof Error) return reject(outcome);
              indexes.forEach((index, i) => (results[index] = outcome[i]!));
              resolve();
            },
          });
        }),
    );
    this.scheduleFlush();
    await Promise.all(settled);
    return results;
  }

  /** Events appended and not yet acknowledged, per partition of a priority. */
  async backlog(priority: Priority): Promise<number[]> {
    // One GET per partition, not an MGET: each counter is in its partition's slot (on a Cluster,
    // on its master). Auto-pipelined, they still go in one round trip per server.
    const { redis, keys } = this.options;
    const values = await Promise.all(this.partitions(priority).map((partition) => redis.get(keys.backlog(priority, partition))));
    return values.map((value) => Number(value ?? 0));
  }

  private partitions(priority: Priority): number[] {
    return Array.from({ length: this.options.priorities[priority].partitions }, (_, partition) => partition);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      // Highest priority first: its calls are built and sent before the rest.
      const queued = [...this.queues].sort(([, a], [, b]) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority));
      this.queues.clear();
      for (const [stream, queue] of queued) {
        for (const call of this.splitIntoCalls(queue.appends)) void this.write(stream, queue, call);
      }
    });
  }

  /** Groups waiting appends into script calls of at most maxEventsPerEntry events (an append is never split). */
  private splitIntoCalls(appends: PendingAppend[]): PendingAppend[][] {
    const calls: PendingAppend[][] = [];
    let current: PendingAppend[] = [];
    let size = 0;
    for (const append of appends) {
      if (size > 0 && size + append.events.length > this.options.maxEventsPerEntry) {
        calls.push(current);
        current = [];
        size = 0;
      }
      current.push(append);
      size += append.events.length;
    }
    if (current.length > 0) calls.push(current);
    return calls;
  }

  private async write(stream: string, { priority, partition }: PartitionQueue, appends: PendingAppend[]): Promise<void> {
    const { keys, dedupWindowMs, retryAfterSeconds } = this.options;
    const redis = this.appenders[priority];
    const { backlogLimit } = this.options.priorities[priority];
    // Ids, then each event's JSON length in bytes, then the events joined as the entry's array.
    const ids: string[] = [];
    const lengths: number[] = [];
    const jsons: string[] = [];
    for (const { events } of appends) {
      for (const event of events) {
        const json = JSON.stringify(event);
        ids.push(event.id);
        lengths.push(Buffer.byteLength(json));
        jsons.push(json);
      }
    }
    const eventArgs = [ids.length, ...ids, ...lengths, `[${jsons.join(',')}]`];
    const settleAll = (outcome: (event: AcceptedEvent) => AppendResult) => {
      for (const { events, settle } of appends) settle(events.map(outcome));
    };
    let reply: (string | number)[];
    try {
      reply = await this.buckets.run(
        serverOf(redis, stream),
        async (bucket) =>
          (await acceptEvents.run(
            redis,
            [
              stream,
              keys.backlog(priority, partition),
              keys.seen(priority, partition, bucket),
              keys.seen(priority, partition, bucket - 1),
              keys.acceptedTotal(priority, partition),
            ],
            [backlogLimit, Math.max(2 * backlogLimit, backlogLimit + 100_000), dedupWindowMs, bucket, ...eventArgs],
          )) as (string | number)[],
      );
      if (this.options.replicaAcks.replicas > 0) {
        // WAIT counts this connection's writes. A call that found every id already accepted
        // wrote nothing: a write of no effect first makes the WAIT cover the earlier accept too
        // (made on another connection, maybe still unreplicated: the replication stream is in order).
        if (String(reply[0]) === '') await redis.incrby(keys.acceptedTotal(priority, partition), 0);
        await waitForReplicas(redis, [stream], this.options.replicaAcks);
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('BACKLOG')) {
        settleAll(() => ({ status: 'backlog_exceeded', retryAfterSeconds }));
      } else {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const { settle } of appends) settle(failure);
      }
      return;
    }
    const entryId = String(reply[0]);
    let flag = 1;
    settleAll(() => (reply[flag++] === 1 ? { status: 'accepted', entryId } : { status: 'duplicate' }));
  }
}
