import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import type { RedisClient } from './connection.js';

/**
 * What differs between one Redis and a Redis Cluster, in one place: modules call these and stay
 * the same on both.
 *
 * On a Cluster each key lives on the master owning its slot (CRC16 of its hash tag, mod 16384).
 * A command, a script, a MULTI and a pipeline must stay within one slot; pub/sub SSUBSCRIBEs per
 * slot; commands about the server itself (PING, INFO, SCAN) go to every master. And no order
 * holds between two masters: a write on one and a write on another are two connections.
 */

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/** The masters serving the data: each node of a Cluster that owns slots, or the one Redis. */
export function masters(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

/** `host:port` of a node (for reports and logs). */
export function nodeAddress(node: Redis): string {
  const { host, port, path } = node.options;
  return path ? String(path) : `${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/**
 * The Redis Cluster slot of a key (as CLUSTER KEYSLOT answers): CRC16-XMODEM of the hash tag
 * (the text between the first `{` and the next `}`, when not empty) or of the whole key, mod 16384.
 */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc % 16384;
}

/**
 * Items grouped by the slot of their key, each group in the items' order: what one pipeline or
 * one multi-key command may take on a Cluster (on one Redis too, where grouping costs nothing).
 */
export function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = keySlot(keyOf(item));
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [item]);
    else group.push(item);
  }
  return [...groups.values()];
}

/**
 * Which server a key's commands reach now: the address of its slot's master on a Cluster
 * (changes with failovers and resharding), '' on one Redis. For state kept per server, such as
 * the offset between this host's clock and the server's.
 */
export function serverOf(client: RedisClient, key: string): string {
  if (!isCluster(client)) return '';
  return client.slots[keySlot(key)]?.[0] ?? `slot:${keySlot(key)}`;
}

/** Resolves once the client is ready (a Cluster: once it knows the slots), rejects after `timeoutMs`. */
export async function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`the Redis connection is ${client.status}`));
    }, timeoutMs);
    client.once('ready', onReady);
  });
}

/**
 * PING on every master (one Redis: the one); rejects when any does not answer. A Cluster client
 * still learning the slots is waited for, up to `timeoutMs`.
 */
export async function pingMasters(client: RedisClient, timeoutMs = 1000): Promise<void> {
  if (!isCluster(client)) {
    await client.ping();
    return;
  }
  await whenReady(client, timeoutMs);
  const nodes = masters(client);
  if (nodes.length === 0) throw new Error('no Redis Cluster master known');
  await Promise.all(nodes.map((node) => node.ping()));
}

/** Every key matching a pattern, from every master (SCAN), each once. For tools and tests, not hot paths. */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  for (const node of masters(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) found.add(key);
    } while (cursor !== '0');
  }
  return [...found];
}

/** Deletes keys of any slots: one UNLINK per slot. Returns how many existed. */
export async function unlinkKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
  const counts = await Promise.all(groupBySlot(keys, (key) => key).map((group) => client.unlink(...group)));
  return counts.reduce((sum, count) => sum + count, 0);
}

/**
 * SSUBSCRIBEs to channels of any slots and resolves once every subscription is answered. A
 * Cluster takes one SSUBSCRIBE per slot (its subscriber of that slot's master); one Redis takes
 * them all at once.
 */
export async function ssubscribeAll(client: RedisClient, channels: readonly string[]): Promise<void> {
  if (channels.length === 0) return;
  if (!isCluster(client)) {
    await client.ssubscribe(...channels);
    return;
  }
  await Promise.all(groupBySlot(channels, (channel) => channel).map((group) => client.ssubscribe(...group)));
}

/** SUNSUBSCRIBEs from channels of any slots (one call per slot on a Cluster). */
export async function sunsubscribeAll(client: RedisClient, channels: readonly string[]): Promise<void> {
  if (channels.length === 0) return;
  if (!isCluster(client)) {
    await client.sunsubscribe(...channels);
    return;
  }
  await Promise.all(groupBySlot(channels, (channel) => channel).map((group) => client.sunsubscribe(...group)));
}

export interface SubscriptionWatch {
  /** Some subscriptions may have been lost: messages sent from now on may not arrive. */
  lost(): void;
  /** The connection (every subscriber of a Cluster) is back: subscribe again to prove it, then catch up. */
  back(): void;
}

/**
 * Calls `lost` when a subscriber connection goes away and `back` when subscriptions can be made
 * again. One Redis: the connection's `close` and `ready`. A Cluster keeps a subscriber per
 * master (sharded pub/sub) and replaces one whose node failed or gave its slots away without
 * closing the Cluster client itself: `-subscriber` and `subscribersReady` (and the Cluster's own
 * `close` / `ready`). Returns a function that stops watching.
 */
export function watchSubscriptions(client: RedisClient, watch: SubscriptionWatch): () => void {
  const lost = () => watch.lost();
  const back = () => watch.back();
  const events: [string, () => void][] = isCluster(client)
    ? [
        ['close', lost],
        ['-subscriber', lost],
        ['ready', back],
        ['subscribersReady', back],
      ]
    : [
        ['close', lost],
        ['ready', back],
      ];
  for (const [event, listener] of events) client.on(event, listener);
  return () => {
    for (const [event, listener] of events) client.off(event, listener);
  };
}

/**
 * Runs a command whose key ioredis cannot find (XGROUP and XINFO: a subcommand comes first) on
 * the master of `key`'s slot. On a Cluster ioredis would send it to a random master, which
 * answers MOVED (an extra round trip and a slot-table refresh each time; auto-pipelined, an
 * error). Here it rides in a pipeline behind an EXISTS of the key, which routes the pipeline, and
 * a pipeline answered MOVED is sent again to the right master. One Redis: just the command.
 */
export async function callInSlotOf(client: RedisClient, key: string, command: string, ...args: (string | number)[]): Promise<unknown> {
  if (!isCluster(client)) return client.call(command, ...args);
  const replies = await client
    .pipeline()
    .exists(key)
    .call(command, ...args)
    .exec();
  const [error, reply] = replies?.[1] ?? [new Error(`no reply to ${command}`), undefined];
  if (error !== null) throw error;
  return reply;
}

/** Fewer replicas than asked acknowledged a write in time (WAIT): it could be lost in a failover. */
export class ReplicationTimeoutError extends Error {
  override readonly name = 'ReplicationTimeoutError';
}

/** How many replicas must hold a write before Herald relies on it, and how long to wait for them. */
export interface ReplicaAcks {
  /** 0: do not wait (one Redis, or a Cluster without replicas). */
  replicas: number;
  timeoutMs: number;
}

/**
 * Waits until `acks.replicas` replicas of every master holding one of `keys` have every write
 * this client sent that master so far: WAIT, on the client's own connection to the master
 * (WAIT counts that connection's writes). Redis replicates asynchronously: a write a master
 * acknowledged can be missing from the replica promoted when the master dies; once WAIT counted
 * the replica, it is not (with one replica per master, the only one that can be promoted).
 * Throws a ReplicationTimeoutError when a master's replicas did not answer in time.
 */
export async function waitForReplicas(client: RedisClient, keys: readonly string[], acks: ReplicaAcks): Promise<void> {
  if (acks.replicas <= 0 || keys.length === 0) return;
  const nodes = isCluster(client) ? mastersOf(client, keys) : [client];
  const counts = await Promise.all(nodes.map((node) => node.wait(acks.replicas, acks.timeoutMs)));
  const short = counts.findIndex((count) => count < acks.replicas);
  if (short >= 0) {
    throw new ReplicationTimeoutError(
      `${counts[short]} of ${acks.replicas} replicas of ${nodeAddress(nodes[short]!)} acknowledged within ${acks.timeoutMs} ms`,
    );
  }
}

/** The connections of a Cluster client to the masters serving these keys now, each once. */
function mastersOf(client: Cluster, keys: readonly string[]): Redis[] {
  const byAddress = new Map(client.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  const found = new Set<Redis>();
  for (const key of keys) {
    const address = client.slots[keySlot(key)]?.[0];
    const node = address === undefined ? undefined : byAddress.get(address);
    if (node === undefined) throw new ReplicationTimeoutError(`no master known for slot ${keySlot(key)} (the Cluster is failing over)`);
    found.add(node);
  }
  return [...found];
}
