import { isWellFormedUnicode } from '@herald/contracts';
import type { Platform, Priority } from '@herald/contracts';

/**
 * Every Redis key and queue name Herald uses is built here, and nowhere else.
 *
 * NEVER RENAME a key shape without a migration: these names are data on running systems.
 *
 * Hash tags (`{…}`) keep the keys of one multi-key operation on one Redis Cluster slot, and
 * spread the rest over the Cluster's masters:
 * - `{p:<priority>:<partition>}`: one priority stream partition, its idempotency marks, traces,
 *   lease, dead letters, live stream and shard channels (one slot per partition);
 * - `{a:<account>}`: everything of one account (devices, presence, history, acks, push windows);
 * - `{e:<event>}`: one event's gateway trace;
 * - `{p:<priority>}`: a priority's live router workers;
 * - `{tap}`, `{gateway-nodes}`: the dashboard's live tap and gateway node list;
 * - `{q:<priority>:<platform>}`: one BullMQ delivery queue (its prefix), so a queue's keys share
 *   a slot and the 12 queues spread over the masters.
 *
 * Ids from clients are escaped (`%`, `{`, `}`) so that no id can move a key to another slot
 * or collide with another key, and an id that is not well-formed Unicode is refused outright:
 * Redis stores UTF-8, where every unpaired surrogate becomes U+FFFD, so `"victim-\ud800"` would
 * name `"victim-\udbff"`'s keys. The API refuses such ids at the door; this is the last check.
 */
export interface KeyBuilder {
  readonly prefix: string;
  /** Stream of accepted events for one partition of one priority (entries hold event batches). */
  stream(priority: Priority, partition: number): string;
  /** Counter of a partition's events appended and not yet acknowledged: its backlog. */
  backlog(priority: Priority, partition: number): string;
  /** Counter of all events ever appended to a partition (never decremented): the in-rate. */
  acceptedTotal(priority: Priority, partition: number): string;
  /** Counter of all events a partition's router acknowledged (never decremented): the out-rate. */
  routedTotal(priority: Priority, partition: number): string;
  /**
   * Hash of a partition's event traces routed in one time bucket: field `<eventId>:r` → routing
   * record (worker), `@<batch>:p:<platform>` / `@<batch>:f:<platform>` → a router batch's
   * delivery job made / failed for good (delivery; see @herald/trace's `traceField`). Expires
   * after the trace window.
   */
  traces(priority: Priority, partition: number, bucket: number): string;
  /** Capped stream of routing records, newest last: the live tap (its own slot, `{tap}`). */
  readonly tap: string;
  /**
   * Hash of live gateway nodes: nodeId → JSON `{ connections, devices, at }`, refreshed with
   * each presence heartbeat; a node whose `at` is older than the presence TTL is gone. Its own
   * slot, `{gateway-nodes}`.
   */
  readonly gatewayNodes: string;
  /** Set of the event ids a partition accepted in one idempotency time bucket; expires. */
  seen(priority: Priority, partition: number, bucket: number): string;
  /** Consumer group that routes a priority's partitions (not a key: a group name). */
  readonly routerGroup: string;
  /** Which worker routes a partition now: the worker id, with an expiry (the lease). */
  lease(priority: Priority, partition: number): string;
  /** Sorted set of live router workers of a priority: worker id → expiry (epoch ms). Slot `{p:<priority>}`. */
  routers(priority: Priority): string;
  /** Set of the event ids a partition finished routing in one time bucket; expires. */
  routed(priority: Priority, partition: number, bucket: number): string;
  /** Dead-letter stream of a partition: entries that failed too often, with the reason. */
  deadLetters(priority: Priority, partition: number): string;
  /**
   * BullMQ queue name of one platform's deliveries of one priority: a priority's deliveries
   * never wait behind another's (RENO's per-priority clusters, carried through delivery).
   */
  deliveryQueue(platform: Platform, priority: Priority): string;
  /**
   * The live transport of one partition: a capped stream of live messages (field `s`, the
   * message's sequence number; field `m`, LiveMessage JSON), appended by the `web`/`tv` delivery,
   * read by every gateway node from its own position.
   */
  liveStream(priority: Priority, partition: number): string;
  /**
   * List of the live messages of one `web`/`tv` delivery job (router batch `batch`), staged by
   * the router in the partition's slot; the delivery moves them into the live stream and
   * deletes the list.
   */
  liveStaged(priority: Priority, partition: number, batch: string, platform: Platform): string;
  /** Counter of the live messages ever appended to a partition's live stream (their sequence numbers). */
  liveSequence(priority: Priority, partition: number): string;
  /**
   * Sharded pub/sub channel (SPUBLISH) on which each live message is also sent as it is
   * appended: `<seq> <stream id> <LiveMessage JSON>`. The fast path; the stream is the truth.
   */
  liveTail(priority: Priority, partition: number): string;
  /** Hash of an account's registered devices: deviceId → DeviceRecord JSON. */
  devices(accountId: string): string;
  /**
   * Hash of an account's live connections: field `[deviceId, gatewayNodeId]` (JSON) → epoch ms
   * until which it counts. Gateways refresh it with heartbeats; a device is online while any
   * of its fields is in the future.
   */
  presence(accountId: string): string;
  /**
   * An account's notification history: one entry per notification (field `e`, a
   * HistoryEntry JSON). Its entry ids are the cursors devices see.
   */
  history(accountId: string): string;
  /** The newest cursor trimmed from an account's history (older cursors cannot be caught up). */
  historyTrimmed(accountId: string): string;
  /** Hash eventId → history cursor of the events an account's history took in one time bucket. */
  historyIds(accountId: string, bucket: number): string;
  /** Hash deviceId → last cursor the device acknowledged. */
  deviceAcks(accountId: string): string;
  /**
   * A mobile device's push coalescing window: the window's id while a "pull now" signal went
   * to the device less than `HERALD_PUSH_COALESCE_MS` ago (SET NX PX, so it expires with it).
   */
  pushWindow(accountId: string, deviceId: string): string;
  /**
   * Hash of the newest signal held back by a device's open push window (`c` its cursor, `s` the
   * signal JSON), sent by the window's trailing job when the window ends; expires after a day.
   */
  pushHeld(accountId: string, deviceId: string): string;
  /** Hash of one event's trace (verdicts, deliveries, acknowledgements); expires. */
  trace(eventId: string): string;
  /**
   * Shard channel (SPUBLISH) announcing accounts whose history grew, a JSON array of account ids
   * per message: one message per router batch of the partition, in the partition's slot, so on a
   * Cluster it reaches only that slot's master (classic PUBLISH is copied to every node) and
   * every gateway node gets it from the master's sharded subscriber.
   */
  historyAppended(priority: Priority, partition: number): string;
  /** Channel prefix of the Socket.IO sharded Redis adapter (cross-node room operations). */
  /**
   * Hash of the load-shedding reports (see @herald/overload): field `ingest:<id>` → the level
   * and shed fractions an ingest computed, with the signals it read; `worker:<id>` → a worker's
   * own signals and the yield it applies. JSON with `at` and `ttlMs`: readers skip stale ones.
   * The key expires when no process refreshes it.
   */
  readonly overload: string;
  /** Key prefix of the Socket.IO Redis adapter (cross-node room operations). */
  readonly socketIoPrefix: string;
  /**
   * BullMQ `prefix` option of one delivery queue: `<prefix>:{q:<priority>:<platform>}`, a hash
   * tag per queue, so each queue's keys (and scripts) stay on one slot and the 12 queues spread
   * over a Cluster's masters (on 3 masters with equal slot ranges: 4, 3 and 5; the high
   * priority's four on all three).
   */
  queuePrefix(platform: Platform, priority: Priority): string;
}

/**
 * Throws on an id that is not well-formed Unicode: one that would share its keys (or hash
 * fields) with another once stored as UTF-8. Every id that becomes a key or a field passes here.
 */
export function assertWellFormedId(id: string): string {
  if (!isWellFormedUnicode(id)) throw new RangeError(`an id with an unpaired UTF-16 surrogate cannot name a Redis key: ${JSON.stringify(id)}`);
  return id;
}

export function escapeId(id: string): string {
  assertWellFormedId(id);
  return id.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function createKeys(prefix: string): KeyBuilder {
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(prefix)) throw new Error(`Invalid key prefix "${prefix}"`);
  const partitionTag = (priority: Priority, partition: number) => `${prefix}:{p:${priority}:${partition}}`;
  const accountTag = (accountId: string) => `${prefix}:{a:${escapeId(accountId)}}`;
  return {
    prefix,
    stream: (priority, partition) => `${partitionTag(priority, partition)}:events`,
    backlog: (priority, partition) => `${partitionTag(priority, partition)}:backlog`,
    acceptedTotal: (priority, partition) => `${partitionTag(priority, partition)}:accepted-total`,
    routedTotal: (priority, partition) => `${partitionTag(priority, partition)}:routed-total`,
    traces: (priority, partition, bucket) => `${partitionTag(priority, partition)}:traces:${bucket}`,
    tap: `${prefix}:{tap}`,
    gatewayNodes: `${prefix}:{gateway-nodes}`,
    seen: (priority, partition, bucket) => `${partitionTag(priority, partition)}:seen:${bucket}`,
    routerGroup: 'router',
    lease: (priority, partition) => `${partitionTag(priority, partition)}:lease`,
    routers: (priority) => `${prefix}:{p:${priority}}:routers`,
    routed: (priority, partition, bucket) => `${partitionTag(priority, partition)}:routed:${bucket}`,
    deadLetters: (priority, partition) => `${partitionTag(priority, partition)}:dead`,
    deliveryQueue: (platform, priority) => `deliver-${platform}-${priority}`,
    liveStream: (priority, partition) => `${partitionTag(priority, partition)}:live`,
    liveStaged: (priority, partition, batch, platform) => `${partitionTag(priority, partition)}:live-staged:${batch}:${platform}`,
    liveSequence: (priority, partition) => `${partitionTag(priority, partition)}:live-seq`,
    liveTail: (priority, partition) => `${partitionTag(priority, partition)}:live-tail`,
    devices: (accountId) => `${accountTag(accountId)}:devices`,
    presence: (accountId) => `${accountTag(accountId)}:presence`,
    history: (accountId) => `${accountTag(accountId)}:history`,
    historyTrimmed: (accountId) => `${accountTag(accountId)}:history-trimmed`,
    historyIds: (accountId, bucket) => `${accountTag(accountId)}:history-ids:${bucket}`,
    deviceAcks: (accountId) => `${accountTag(accountId)}:acks`,
    pushWindow: (accountId, deviceId) => `${accountTag(accountId)}:push-window:${escapeId(deviceId)}`,
    pushHeld: (accountId, deviceId) => `${accountTag(accountId)}:push-held:${escapeId(deviceId)}`,
    trace: (eventId) => `${prefix}:{e:${escapeId(eventId)}}:trace`,
    historyAppended: (priority, partition) => `${partitionTag(priority, partition)}:history-appended`,
    overload: `${prefix}:{overload}`,
    socketIoPrefix: `${prefix}:socket.io`,
    queuePrefix: (platform, priority) => `${prefix}:{q:${priority}:${platform}}`,
  };
}
