import type { Priority } from '@herald/contracts';
import { RedisScript } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';

const lua = new URL('../lua/', import.meta.url);
const stageLive = RedisScript.fromFile(lua, 'stage-live-1');
const appendStaged = RedisScript.fromFile(lua, 'append-staged-3');

/** A staged list waits for its job as long as a failed job is kept (7 days, to be retried from the board). */
const STAGED_TTL_MS = 7 * 24 * 3600 * 1000;

/** A live message with its place in its partition's live stream. */
export interface LiveEntry {
  /** The message's sequence number in its partition: 1, 2, 3… with no gaps. */
  seq: number;
  /** Its entry id in the partition's live stream (where a read after it starts). */
  id: string;
  /** LiveMessage JSON. */
  message: string;
}

/** Where a reader of a partition's live stream stands: the last entry it has taken. */
export interface LivePosition {
  seq: number;
  id: string;
}

/** Before any entry: a partition that never had a message. */
export const LIVE_START: LivePosition = { seq: 0, id: '0-0' };

export interface LiveStreamOptions {
  keys: KeyBuilder;
  /**
   * Entries each partition's stream keeps (approximately; default 1000). A gateway node more
   * than this many messages behind a partition resyncs its connections from history instead.
   */
  maxLength?: number;
}

/**
 * The live transport between the `web`/`tv` delivery and the gateway nodes: per stream
 * partition, a capped Redis stream of live messages numbered 1, 2, 3…, each also sent on the
 * partition's shard channel (SPUBLISH) as it is appended. The router stages a job's messages in
 * the partition's slot (`stage`), the delivery moves them into the stream (`appendStaged`):
 * messages cross the network once, and jobs stay small. Gateways take messages from the
 * channel while their numbers follow on, and read the stream from their own position when they
 * do not (a message missed in transit, a lost subscription, a Redis restart): nothing in transit
 * is lost, and everything shards with the partitions (keys and channel share the partition's
 * hash tag).
 */
export class LiveStream {
  readonly maxLength: number;

  constructor(private readonly options: LiveStreamOptions) {
    this.maxLength = options.maxLength ?? 1000;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 1) throw new RangeError('maxLength must be a positive integer');
  }

  /**
   * Stages a delivery job's live messages under `key` (`keys.liveStaged`), unless a routing of
   * the same batch staged them already. Await it before adding the job: the job may run at once.
   */
  async stage(client: RedisClient, key: string, messages: readonly string[]): Promise<boolean> {
    if (messages.length === 0) return false;
    return (await stageLive.run(client, [key], [STAGED_TTL_MS, ...messages])) === 1;
  }

  /**
   * Moves the messages staged under `key` into the partition's live stream, in order (the
   * delivery's part). Resolves with how many were appended: 0 when none are staged (moved by an
   * earlier run of the job).
   */
  async appendStaged(client: RedisClient, priority: Priority, partition: number, key: string): Promise<number> {
    const { keys } = this.options;
    return Number(
      await appendStaged.run(
        client,
        [key, keys.liveStream(priority, partition), keys.liveSequence(priority, partition)],
        [keys.liveTail(priority, partition), this.maxLength],
      ),
    );
  }

  /** Up to `count` entries after `after` (exclusive), oldest first. */
  async read(client: RedisClient, priority: Priority, partition: number, after: string, count: number): Promise<LiveEntry[]> {
    const raw = (await client.xrange(this.options.keys.liveStream(priority, partition), `(${after}`, '+', 'COUNT', count)) as [string, string[]][];
    return raw.flatMap(([id, fields]) => {
      const entry = entryOf(id, fields);
      return entry === undefined ? [] : [entry];
    });
  }

  /** The newest entry of a partition (LIVE_START when it has none). */
  async head(client: RedisClient, priority: Priority, partition: number): Promise<LivePosition> {
    const [last] = (await client.xrevrange(this.options.keys.liveStream(priority, partition), '+', '-', 'COUNT', 1)) as [string, string[]][];
    const entry = last === undefined ? undefined : entryOf(last[0], last[1]);
    return entry === undefined ? LIVE_START : { seq: entry.seq, id: entry.id };
  }

  /** The sequence number of a partition's last message (0: none yet). One GET: cheap to poll. */
  async lastSeq(client: RedisClient, priority: Priority, partition: number): Promise<number> {
    return Number((await client.get(this.options.keys.liveSequence(priority, partition))) ?? 0);
  }
}

function entryOf(id: string, fields: string[]): LiveEntry | undefined {
  let seq: number | undefined;
  let message: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 's') seq = Number(fields[i + 1]);
    else if (fields[i] === 'm') message = fields[i + 1];
  }
  return seq === undefined || !Number.isSafeInteger(seq) || message === undefined ? undefined : { seq, id, message };
}

/** A message of a partition's shard channel (`<seq> <entry id> <message>`); undefined when malformed. */
export function parseTailMessage(raw: string): LiveEntry | undefined {
  const first = raw.indexOf(' ');
  const second = first < 0 ? -1 : raw.indexOf(' ', first + 1);
  if (second < 0) return undefined;
  const seq = Number(raw.slice(0, first));
  const id = raw.slice(first + 1, second);
  if (!Number.isSafeInteger(seq) || seq < 1 || !/^\d+-\d+$/.test(id)) return undefined;
  return { seq, id, message: raw.slice(second + 1) };
}
