import type { Priority } from '@herald/contracts';

/**
 * Every Redis key and queue name Herald uses is built here, and nowhere else.
 *
 * NEVER RENAME a key shape without a migration: these names are data on running systems.
 *
 * Hash tags (`{…}`) keep the keys of one multi-key operation on one Redis Cluster slot:
 * - `{p:<priority>:<partition>}`: one priority stream partition and its idempotency marks;
 * - `{a:<account>}`: everything of one account (devices, history);
 * - BullMQ's prefix is `{<prefix>:bull}`, so each queue's keys share a slot.
 *
 * Ids from clients are escaped (`%`, `{`, `}`) so that no id can move a key to another slot
 * or collide with another key.
 */
export interface KeyBuilder {
  readonly prefix: string;
  /** Stream of accepted events for one partition of one priority (entries hold event batches). */
  stream(priority: Priority, partition: number): string;
  /** Counter of a partition's events appended and not yet acknowledged: its backlog. */
  backlog(priority: Priority, partition: number): string;
  /** Set of the event ids a partition accepted in one idempotency time bucket; expires. */
  seen(priority: Priority, partition: number, bucket: number): string;
  /** Consumer group that routes a priority's partitions (not a key: a group name). */
  readonly routerGroup: string;
  /** Hash of an account's registered devices: deviceId → DeviceRecord JSON. */
  devices(accountId: string): string;
  /**
   * Hash of an account's live devices: deviceId → epoch ms until which the device counts as
   * online. Gateways refresh it with heartbeats; an entry past its time is offline.
   */
  presence(accountId: string): string;
  /** BullMQ `prefix` option. */
  readonly bullPrefix: string;
}

export function escapeId(id: string): string {
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
    seen: (priority, partition, bucket) => `${partitionTag(priority, partition)}:seen:${bucket}`,
    routerGroup: 'router',
    devices: (accountId) => `${accountTag(accountId)}:devices`,
    presence: (accountId) => `${accountTag(accountId)}:presence`,
    bullPrefix: `{${prefix}:bull}`,
  };
}
