import { LiveBatchSchema, PRIORITIES, parseJson } from '@herald/contracts';
import type { LivePush, Priority } from '@herald/contracts';
import type { KeyBuilder, RedisClient } from '@herald/redis';

/** Where the lanes hand each push: the sockets of its devices that this node holds. */
export interface LivePushSink {
  push(push: LivePush): void;
  /** A message that is not a LiveBatch (dropped whole). */
  invalid(payload: unknown): void;
  /** Messages dropped because their lane was full (this node is far behind). */
  overflowed(priority: Priority, messages: number): void;
}

export interface LiveLanesOptions {
  /** A connection of its own: subscribing puts it in subscriber mode. */
  subscriber: RedisClient;
  keys: KeyBuilder;
  sink: LivePushSink;
  /** Messages a lane keeps waiting at most; past it the oldest are dropped (they stay in history). */
  maxWaiting: number;
}

/**
 * The gateway's end of the live channels: one lane per priority. Messages are only queued as
 * they arrive (no parsing), and served one message per event-loop turn, from the highest
 * priority lane that has one. A message of a higher priority that arrives while a backlog of
 * lower ones is being served waits at most for the message being served, not for the backlog:
 * RENO's priority isolation, carried into the node that writes to the sockets.
 */
export class LiveLanes {
  private readonly lanes = new Map<Priority, string[]>(PRIORITIES.map((priority) => [priority, []]));
  /** Index of each lane's next message (a lane is compacted when it empties). */
  private readonly heads = new Map<Priority, number>(PRIORITIES.map((priority) => [priority, 0]));
  private readonly priorityOf: Map<string, Priority>;
  private scheduled = false;
  private stopped = false;
  private readonly onMessage = (channel: string, message: string) => this.enqueue(channel, message);

  constructor(private readonly options: LiveLanesOptions) {
    this.priorityOf = new Map(PRIORITIES.map((priority) => [options.keys.liveChannel(priority), priority]));
  }

  async start(): Promise<void> {
    this.options.subscriber.on('message', this.onMessage);
    await this.options.subscriber.subscribe(...this.priorityOf.keys());
  }

  /** Stops listening and drops what waits (the notifications stay in history). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.subscriber.off('message', this.onMessage);
    for (const priority of PRIORITIES) {
      this.lanes.set(priority, []);
      this.heads.set(priority, 0);
    }
    if (this.options.subscriber.status === 'ready') await this.options.subscriber.unsubscribe();
  }

  /** Messages waiting, per priority (for metrics and tests). */
  waiting(): Record<Priority, number> {
    return Object.fromEntries(PRIORITIES.map((priority) => [priority, this.lanes.get(priority)!.length - this.heads.get(priority)!])) as Record<Priority, number>;
  }

  private enqueue(channel: string, message: string): void {
    const priority = this.priorityOf.get(channel);
    if (priority === undefined || this.stopped) return;
    const lane = this.lanes.get(priority)!;
    lane.push(message);
    const head = this.heads.get(priority)!;
    if (lane.length - head > this.options.maxWaiting) {
      const dropped = lane.length - head - this.options.maxWaiting;
      this.heads.set(priority, head + dropped);
      this.options.sink.overflowed(priority, dropped);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.serveOne());
  }

  /** Serves the oldest message of the highest priority lane that has one, then yields. */
  private serveOne(): void {
    this.scheduled = false;
    for (const priority of PRIORITIES) {
      const lane = this.lanes.get(priority)!;
      const head = this.heads.get(priority)!;
      if (head >= lane.length) continue;
      const message = lane[head]!;
      if (head + 1 === lane.length) {
        this.lanes.set(priority, []);
        this.heads.set(priority, 0);
      } else {
        this.heads.set(priority, head + 1);
        // Compact now and then, so a lane that never empties does not keep what it served.
        if (head + 1 >= 1024 && head + 1 >= lane.length / 2) {
          this.lanes.set(priority, lane.slice(head + 1));
          this.heads.set(priority, 0);
        }
      }
      this.deliver(message);
      this.schedule();
      return;
    }
  }

  private deliver(message: string): void {
    const batch = LiveBatchSchema.safeParse(parseJson(message));
    if (!batch.success) {
      this.options.sink.invalid(message.length > 500 ? `${message.slice(0, 500)}…` : message);
      return;
    }
    for (const push of batch.data) this.options.sink.push(push);
  }
}
