import { LiveBatchSchema, PRIORITIES, parseJson } from '@herald/contracts';
import type { LivePush, Priority } from '@herald/contracts';
import type { KeyBuilder, RedisClient } from '@herald/redis';

/** Where the lanes hand each push: the sockets of its devices that this node holds. */
export interface LivePushSink {
  push(push: LivePush): void;
  /** A message that is not a LiveBatch (dropped whole). */
  invalid(payload: unknown): void;
  /**
   * `messages` were dropped because their lane was full (this node is far behind): `pushes`, the
   * valid ones among them, did not go out.
   */
  overflowed(priority: Priority, messages: number, pushes: readonly LivePush[]): void;
  /**
   * The subscription to the live channels was down from `lostAt` (epoch ms) and is back: what
   * was published meanwhile never arrived.
   */
  resubscribed(lostAt: number): void;
}

export interface LiveLanesOptions {
  /** A connection of its own: subscribing puts it in subscriber mode. */
  subscriber: RedisClient;
  keys: KeyBuilder;
  sink: LivePushSink;
  /** Messages a lane keeps waiting at most; past it the oldest are dropped (they stay in history). */
  maxWaiting: number;
  now?: () => number;
}

/** One priority's waiting messages, oldest first: an array read from a moving head. */
class Lane {
  private items: string[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(message: string): void {
    this.items.push(message);
  }

  /** The oldest message, taken off the lane; undefined when it is empty. */
  take(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const message = this.items[this.head++];
    // Forget what was served once it is most of the array, so a lane that never empties stays small.
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 1024 && this.head >= this.items.length / 2) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return message;
  }

  /** Drops the oldest messages until at most `max` wait; returns them. */
  trimTo(max: number): string[] {
    const excess = this.size - max;
    if (excess <= 0) return [];
    const dropped = this.items.slice(this.head, this.head + excess);
    this.head += excess;
    return dropped;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/**
 * The gateway's end of the live channels: one lane per priority. Messages are only queued as
 * they arrive (no parsing), and served one message per event-loop turn, from the highest
 * priority lane that has one. A message of a higher priority that arrives while a backlog of
 * lower ones is being served waits at most for the message being served, not for the backlog:
 * RENO's priority isolation, carried into the node that writes to the sockets.
 */
export class LiveLanes {
  private readonly lanes = new Map<Priority, Lane>(PRIORITIES.map((priority) => [priority, new Lane()]));
  private readonly priorityOf: Map<string, Priority>;
  private scheduled = false;
  private stopped = false;
  private readonly onMessage = (channel: string, message: string) => this.enqueue(channel, message);
  /** When the subscriber connection was lost, until the subscription is back. */
  private lostAt: number | undefined;
  private readonly onClose = () => {
    if (!this.stopped) this.lostAt ??= (this.options.now ?? Date.now)();
  };
  private readonly onReady = () => void this.recover();

  constructor(private readonly options: LiveLanesOptions) {
    this.priorityOf = new Map(PRIORITIES.map((priority) => [options.keys.liveChannel(priority), priority]));
  }

  async start(): Promise<void> {
    const { subscriber } = this.options;
    subscriber.on('message', this.onMessage);
    subscriber.on('close', this.onClose);
    subscriber.on('ready', this.onReady);
    await subscriber.subscribe(...this.priorityOf.keys());
  }

  /** Stops listening and drops what waits (the notifications stay in history). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.subscriber.off('message', this.onMessage);
    this.options.subscriber.off('close', this.onClose);
    this.options.subscriber.off('ready', this.onReady);
    for (const lane of this.lanes.values()) lane.clear();
    if (this.options.subscriber.status === 'ready') await this.options.subscriber.unsubscribe();
  }

  private enqueue(channel: string, message: string): void {
    const priority = this.priorityOf.get(channel);
    if (priority === undefined || this.stopped) return;
    const lane = this.lanes.get(priority)!;
    lane.push(message);
    const dropped = lane.trimTo(this.options.maxWaiting);
    if (dropped.length > 0) this.options.sink.overflowed(priority, dropped.length, dropped.flatMap((message) => parseLiveBatch(message) ?? []));
    this.schedule();
  }

  /**
   * The subscriber is connected again after a loss. ioredis subscribes again by itself; a
   * SUBSCRIBE of our own, answered on the same connection, proves the subscription is back
   * before the sink reads history (a push published before that would be missed again). If the
   * connection drops before the answer, the next `ready` tries again, from the first loss.
   */
  private async recover(): Promise<void> {
    const lostAt = this.lostAt;
    if (lostAt === undefined || this.stopped) return;
    try {
      await this.options.subscriber.subscribe(...this.priorityOf.keys());
    } catch {
      return;
    }
    if (this.stopped || this.lostAt !== lostAt) return;
    this.lostAt = undefined;
    this.options.sink.resubscribed(lostAt);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.serveOne());
  }

  /** Serves the oldest message of the highest priority lane that has one (PRIORITIES is in that order), then yields. */
  private serveOne(): void {
    this.scheduled = false;
    for (const lane of this.lanes.values()) {
      const message = lane.take();
      if (message === undefined) continue;
      this.deliver(message);
      this.schedule();
      return;
    }
  }

  private deliver(message: string): void {
    const pushes = parseLiveBatch(message);
    if (pushes === undefined) {
      this.options.sink.invalid(message.length > 500 ? `${message.slice(0, 500)}…` : message);
      return;
    }
    for (const push of pushes) this.options.sink.push(push);
  }
}

/** The pushes of a live message; undefined when it is not a LiveBatch. */
function parseLiveBatch(message: string): LivePush[] | undefined {
  const batch = LiveBatchSchema.safeParse(parseJson(message));
  return batch.success ? batch.data : undefined;
}
