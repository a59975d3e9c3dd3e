import { LiveMessageSchema, PRIORITIES, parseJson } from '@herald/contracts';
import type { LivePush, LiveTrace, Priority } from '@herald/contracts';
import { parseTailMessage } from '@herald/live';
import type { LiveEntry, LivePosition, LiveStream } from '@herald/live';
import type { Logger } from '@herald/runtime';
import { ssubscribeAll, sunsubscribeAll, watchSubscriptions } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';

/** Where a gateway records a live push it sent: its message's trace field, and its index in the message. */
export interface LivePushTrace {
  trace: LiveTrace;
  index: number;
}

/** Where the feed hands what it takes from the live streams. */
export interface LiveFeedSink {
  /** A push, in the order of its partition's live stream; `trace`: where its sending is recorded (absent: tracing is off). */
  push(push: LivePush, trace: LivePushTrace | undefined): void;
  /** A live message that is not a LiveMessage (dropped whole). */
  invalid(payload: unknown): void;
  /**
   * Messages of this partition can no longer be read (its live stream was trimmed past this
   * node's position, or started anew): the node's connections resync from history.
   */
  lost(priority: Priority, partition: number): void;
}

export interface LiveFeedOptions {
  /** A connection of its own, put in subscriber mode (SSUBSCRIBE to every partition's channel). */
  subscriber: RedisClient;
  /** Reads of the live streams. */
  redis: RedisClient;
  live: LiveStream;
  keys: KeyBuilder;
  partitions: Record<Priority, number>;
  sink: LiveFeedSink;
  /** Channel messages a priority's lane keeps waiting at most; past it, newer ones are read from the stream later. */
  laneLimit: number;
  /** How often each partition's sequence counter is compared with this node's position (a lost message found late). */
  checkIntervalMs: number;
  logger: Logger;
}

/** Entries read from a live stream at once. */
const READ_COUNT = 100;
/** Channel messages a partition keeps while a read of its stream is in flight. */
const PENDING_LIMIT = 1000;

/** One partition's live stream, as this node follows it. */
class Partition {
  /** The last message handed to the sink; undefined until the start-up read. */
  position: LivePosition | undefined;
  /** A read of the stream is in flight: channel messages wait in `pending`. */
  reading = false;
  pending: LiveEntry[] = [];
  /** Messages of this partition were dropped from a full lane: read the stream when it drains. */
  behind = false;
  /** The position at the last periodic check (a partition that did not move since is read). */
  checked = -1;

  constructor(
    readonly priority: Priority,
    readonly index: number,
    readonly channel: string,
  ) {}
}

interface Waiting {
  partition: Partition;
  message: string;
}

/** One priority's waiting channel messages, oldest first: an array read from a moving head. */
class Lane {
  private items: Waiting[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: Waiting): void {
    this.items.push(item);
  }

  take(): Waiting | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 1024 && this.head >= this.items.length / 2) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/**
 * The gateway's end of the live transport (`@herald/live`): it follows every partition's live
 * stream from its own position. Each partition's messages come on its shard channel, numbered
 * 1, 2, 3…: a message whose number follows this node's position goes to the sink at once; a
 * number that skips (a message lost in transit), a lost subscription, a full lane or a check
 * that finds the partition further on than this node all lead to a read of the stream from the
 * position, in order, before the partition goes on. So every message reaches the sink once and
 * in order, or, if the stream no longer holds the position, the sink is told (`lost`).
 *
 * Messages wait unparsed in one lane per priority and are served one per event-loop turn from
 * the highest lane that has one: a high-priority push that arrives behind thousands of
 * low-priority ones waits for the message being served, not for the backlog.
 */
export class LiveFeed {
  private readonly partitions: Partition[] = [];
  private readonly byChannel = new Map<string, Partition>();
  private readonly lanes = new Map<Priority, Lane>(PRIORITIES.map((priority) => [priority, new Lane()]));
  private scheduled = false;
  private stopped = false;
  private lost = false;
  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private unwatch: (() => void) | undefined;
  private readonly onMessage = (channel: string, message: string) => this.enqueue(channel, message);

  constructor(private readonly options: LiveFeedOptions) {
    for (const priority of PRIORITIES) {
      for (let index = 0; index < options.partitions[priority]; index++) {
        const partition = new Partition(priority, index, options.keys.liveTail(priority, index));
        this.partitions.push(partition);
        this.byChannel.set(partition.channel, partition);
      }
    }
  }

  /** Subscribes, then takes each partition's newest message as its starting position. */
  async start(): Promise<void> {
    const { subscriber } = this.options;
    for (const partition of this.partitions) partition.reading = true;
    subscriber.on('smessage', this.onMessage);
    // A lost subscriber: on one Redis its connection closes; on a Cluster, a master's
    // subscriber is replaced after a failover (or a slot's move) while the client stays up.
    this.unwatch = watchSubscriptions(subscriber, {
      lost: () => {
        if (!this.stopped) this.lost = true;
      },
      back: () => void this.recover(),
    });
    await ssubscribeAll(subscriber, [...this.byChannel.keys()]);
    // Messages that arrive meanwhile wait as pending; those at or before the head are skipped.
    // Nothing before the start matters: connections replay from history when they connect.
    const heads = await Promise.all(this.partitions.map((p) => this.options.live.head(this.options.redis, p.priority, p.index)));
    this.partitions.forEach((partition, i) => {
      partition.position = heads[i]!;
      void this.follow(partition);
    });
    this.checkTimer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    this.checkTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checkTimer);
    const { subscriber } = this.options;
    subscriber.off('smessage', this.onMessage);
    this.unwatch?.();
    for (const lane of this.lanes.values()) lane.clear();
    if (subscriber.status === 'ready') await sunsubscribeAll(subscriber, [...this.byChannel.keys()]).catch(() => undefined);
  }

  private enqueue(channel: string, message: string): void {
    const partition = this.byChannel.get(channel);
    if (partition === undefined || this.stopped) return;
    const lane = this.lanes.get(partition.priority)!;
    if (lane.size >= this.options.laneLimit) {
      // Read from the stream once the lane has drained: nothing is lost, the node is behind.
      partition.behind = true;
      return;
    }
    lane.push({ partition, message });
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.serveOne());
  }

  /** Serves the oldest message of the highest priority lane that has one (PRIORITIES is in that order), then yields. */
  private serveOne(): void {
    this.scheduled = false;
    for (const [priority, lane] of this.lanes) {
      const waiting = lane.take();
      if (waiting === undefined) continue;
      const entry = parseTailMessage(waiting.message);
      if (entry === undefined) this.options.sink.invalid(preview(waiting.message));
      else this.take(waiting.partition, entry);
      if (lane.size === 0) this.catchUpBehind(priority);
      this.schedule();
      return;
    }
  }

  /** A channel message of `partition`: handed on if it follows the position, read around otherwise. */
  private take(partition: Partition, entry: LiveEntry): void {
    if (partition.reading) {
      if (partition.pending.length < PENDING_LIMIT) partition.pending.push(entry);
      else partition.behind = true;
      return;
    }
    const position = partition.position!;
    if (entry.seq <= position.seq) return;
    if (entry.seq === position.seq + 1) {
      this.hand(partition, entry);
      return;
    }
    partition.pending.push(entry);
    void this.follow(partition);
  }

  private catchUpBehind(priority: Priority): void {
    for (const partition of this.partitions) {
      if (partition.priority !== priority || !partition.behind || partition.reading) continue;
      void this.follow(partition);
    }
  }

  /**
   * Brings `partition` up to date: reads its stream after the position until the pending
   * channel messages follow on from it, hands everything on in order, and goes back to taking
   * messages from the channel. Never throws: a failed read is retried by the next check.
   */
  private async follow(partition: Partition): Promise<void> {
    partition.reading = true;
    try {
      for (;;) {
        // Pending messages that follow on need no read.
        while (partition.pending.length > 0) {
          const next = partition.pending[0]!;
          if (next.seq <= partition.position!.seq) partition.pending.shift();
          else if (next.seq === partition.position!.seq + 1) this.hand(partition, partition.pending.shift()!);
          else break;
        }
        if (partition.pending.length === 0 && !partition.behind) break;
        partition.behind = false;
        await this.read(partition);
        if (this.stopped) return;
      }
    } catch (error) {
      partition.pending = [];
      partition.behind = true;
      this.options.logger.warn(
        { err: error, priority: partition.priority, partition: partition.index },
        'reading a live stream failed; retrying at the next check',
      );
    } finally {
      partition.reading = false;
    }
  }

  /** Reads `partition`'s stream after its position, to its end, handing each entry on. */
  private async read(partition: Partition): Promise<void> {
    const { live, redis } = this.options;
    for (;;) {
      const entries = await live.read(redis, partition.priority, partition.index, partition.position!.id, READ_COUNT);
      if (this.stopped) return;
      for (const entry of entries) {
        if (entry.seq <= partition.position!.seq) continue;
        if (entry.seq !== partition.position!.seq + 1) this.options.sink.lost(partition.priority, partition.index);
        this.hand(partition, entry);
      }
      if (entries.length < READ_COUNT) return;
    }
  }

  private hand(partition: Partition, entry: LiveEntry): void {
    partition.position = { seq: entry.seq, id: entry.id };
    const message = LiveMessageSchema.safeParse(parseJson(entry.message));
    if (!message.success) {
      this.options.sink.invalid(preview(entry.message));
      return;
    }
    const { trace, pushes } = message.data;
    pushes.forEach((push, index) => this.options.sink.push(push, trace === undefined ? undefined : { trace, index }));
  }

  /**
   * The subscriber is connected again after a loss; ioredis subscribes again by itself. A
   * SSUBSCRIBE of our own, answered, proves the subscription is back (on a Cluster, one per
   * slot, each through its master's subscriber); then every partition is read from its position
   * (what was sent meanwhile never came).
   */
  private async recover(): Promise<void> {
    if (!this.lost || this.stopped) return;
    try {
      await ssubscribeAll(this.options.subscriber, [...this.byChannel.keys()]);
    } catch {
      return;
    }
    if (this.stopped) return;
    this.lost = false;
    this.options.logger.warn(
      { partitions: this.partitions.length },
      "live channels subscribed again after a loss; reading the live streams from this node's positions",
    );
    for (const partition of this.partitions) {
      partition.behind = true;
      if (!partition.reading) void this.follow(partition);
    }
  }

  /**
   * Compares each partition's sequence counter with this node's position. A partition further on
   * than the node and not moving since the last check lost a message unnoticed: read it. A
   * counter behind the position means the stream started anew: every connection resyncs.
   */
  private async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const idle = this.partitions.filter((p) => !p.reading && p.position !== undefined);
      const counters = await Promise.all(idle.map((p) => this.options.live.lastSeq(this.options.redis, p.priority, p.index)));
      idle.forEach((partition, i) => {
        const counter = counters[i]!;
        const position = partition.position!;
        if (counter < position.seq) {
          this.options.logger.warn(
            { priority: partition.priority, partition: partition.index, counter, position: position.seq },
            'a live stream started anew; connections resync from history',
          );
          partition.position = { seq: 0, id: '0-0' };
          this.options.sink.lost(partition.priority, partition.index);
          partition.behind = true;
        } else if (counter > position.seq && partition.checked === position.seq) {
          partition.behind = true;
        }
        partition.checked = position.seq;
        if (partition.behind && !partition.reading) void this.follow(partition);
      });
    } catch (error) {
      this.options.logger.warn({ err: error }, 'checking the live streams failed');
    } finally {
      this.checking = false;
    }
  }
}

function preview(message: string): string {
  return message.length > 500 ? `${message.slice(0, 500)}…` : message;
}
