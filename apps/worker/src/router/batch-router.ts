import type { Queue } from 'bullmq';
import type { EventCatalog } from '@herald/catalog';
import type { AcceptedEvent, DeviceRecord, Platform, Priority } from '@herald/contracts';
import type { DeviceRegistry, Presence } from '@herald/devices';
import { toNotification } from '@herald/history';
import type { History, HistoryEntry } from '@herald/history';
import type { Logger } from '@herald/observability';
import { RedisScript, RedisTimeBuckets } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { PushSignal, SocketDeliveryJob } from '../delivery/jobs.js';
import type { WorkerMetrics } from '../worker-metrics.js';
import { isStale, resolveTargets } from './gates.js';
import type { Verdict } from './gates.js';
import type { StreamEntry } from './stream-entry.js';

const ackEntries = RedisScript.fromFile(new URL('../../lua/', import.meta.url), 'ack-entries-3');

/** The delivery queues, per priority and platform. */
export type DeliveryQueues = Record<Priority, Record<Platform, Queue>>;

export interface BatchRouterDeps {
  redis: RedisClient;
  keys: KeyBuilder;
  catalog: EventCatalog;
  devices: DeviceRegistry;
  presence: Presence;
  history: History;
  queues: DeliveryQueues;
  metrics: WorkerMetrics;
  logger: Logger;
  /** How long a routed event id is remembered by the duplicate gate. */
  dedupWindowMs: number;
  /** BullMQ attempts of a delivery job (retries with exponential backoff). */
  deliveryAttempts: number;
  now?: () => number;
}

interface Routed {
  event: AcceptedEvent;
  targets: DeviceRecord[];
  cursor?: string;
}

/**
 * Routes a batch of one partition's stream entries: the gates (stale, duplicate, targeting),
 * the history append, the online gate, one delivery job per platform, then the
 * acknowledgement. Crash-safe by construction: history appends are idempotent per event id,
 * jobs have deterministic ids, and entries are acknowledged only after both are written, so
 * a retried batch neither loses nor duplicates.
 */
export class BatchRouter {
  private readonly now: () => number;
  private readonly buckets: RedisTimeBuckets;

  constructor(private readonly deps: BatchRouterDeps) {
    this.now = deps.now ?? Date.now;
    this.buckets = new RedisTimeBuckets(deps.dedupWindowMs);
  }

  async route(priority: Priority, partition: number, entries: readonly StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const events = entries.flatMap((entry) => entry.events);
    const count = (verdict: Verdict) => this.deps.metrics.gateOutcomes.inc({ priority, verdict });

    const now = this.now();
    const fresh: AcceptedEvent[] = [];
    for (const event of events) {
      if (isStale(event, this.deps.catalog, now)) count('stale');
      else fresh.push(event);
    }
    const seen = await this.alreadyRouted(priority, partition, fresh.map((event) => event.id));
    const unseen: AcceptedEvent[] = [];
    for (const event of fresh) {
      if (seen.has(event.id)) count('duplicate');
      else unseen.push(event);
    }

    const routed = await this.targetAndRecord(unseen, count);
    await this.fanOut(priority, partition, entries, routed);
    await this.acknowledge(priority, partition, entries, events);
    this.deps.metrics.entriesRouted.inc({ priority }, entries.length);
  }

  private async alreadyRouted(priority: Priority, partition: number, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { redis, keys } = this.deps;
    const bucket = this.buckets.current();
    const [current, previous] = await Promise.all([
      redis.smismember(keys.routed(priority, partition, bucket), ...ids),
      redis.smismember(keys.routed(priority, partition, bucket - 1), ...ids),
    ]);
    return new Set(ids.filter((_, i) => current[i] === 1 || previous[i] === 1));
  }

  /** Targeting and history, per account (accounts in parallel, each account's events in order). */
  private async targetAndRecord(events: AcceptedEvent[], count: (verdict: Verdict) => void): Promise<Routed[]> {
    const byAccount = new Map<string, AcceptedEvent[]>();
    for (const event of events) {
      const list = byAccount.get(event.accountId);
      if (list === undefined) byAccount.set(event.accountId, [event]);
      else list.push(event);
    }
    const perAccount = await Promise.all(
      [...byAccount].map(async ([accountId, accountEvents]) => {
        const devices = await this.deps.devices.list(accountId);
        const routed: Routed[] = [];
        for (const event of accountEvents) {
          const targets = resolveTargets(event, devices, this.deps.catalog);
          if (targets.length === 0) count('no_targets');
          else routed.push({ event, targets });
        }
        if (routed.length === 0) return routed;
        const entries: HistoryEntry[] = routed.map(({ event, targets }) => ({ ...event, devices: targets.map((d) => d.deviceId) }));
        const outcomes = await this.deps.history.append(accountId, entries);
        routed.forEach((r, i) => {
          r.cursor = outcomes[i]!.cursor;
          count('routed');
        });
        return routed;
      }),
    );
    return perAccount.flat();
  }

  /** The online gate and one delivery job per platform with work, with a deterministic id. */
  private async fanOut(priority: Priority, partition: number, entries: readonly StreamEntry[], routed: Routed[]): Promise<void> {
    if (routed.length === 0) return;
    const socketItems: Record<'web' | 'tv', SocketDeliveryJob['items']> = { web: [], tv: [] };
    const signals: Record<'ios' | 'android', Map<string, PushSignal>> = { ios: new Map(), android: new Map() };

    const pushAccounts = [...new Set(routed.filter((r) => r.targets.some(isSocketDevice)).map((r) => r.event.accountId))];
    const online = new Map(await Promise.all(pushAccounts.map(async (id) => [id, await this.deps.presence.onlineDevices(id)] as const)));

    for (const { event, targets, cursor } of routed) {
      if (cursor === undefined) continue;
      const notification = toNotification(cursor, { ...event, devices: [] });
      for (const platform of ['web', 'tv'] as const) {
        const deviceIds = targets
          .filter((d) => d.platform === platform && online.get(event.accountId)?.has(d.deviceId) === true)
          .map((d) => d.deviceId);
        if (deviceIds.length > 0) socketItems[platform].push({ accountId: event.accountId, deviceIds, notification, acceptedAt: event.acceptedAt });
      }
      for (const device of targets) {
        if (device.platform !== 'ios' && device.platform !== 'android') continue;
        const key = JSON.stringify([event.accountId, device.deviceId]);
        const signal = signals[device.platform].get(key);
        if (signal === undefined) {
          signals[device.platform].set(key, {
            accountId: event.accountId,
            deviceId: device.deviceId,
            ...(device.pushToken === undefined ? {} : { pushToken: device.pushToken }),
            cursor,
            eventIds: [event.id],
            priority,
            acceptedAt: event.acceptedAt,
          });
        } else {
          signal.cursor = cursor;
          signal.eventIds.push(event.id);
        }
      }
    }

    const first = entries[0]!.id;
    const last = entries[entries.length - 1]!.id;
    const jobId = (platform: Platform) => `${priority}.${partition}.${first}.${last}.${entries.length}.${platform}`;
    const options = (platform: Platform) => ({
      jobId: jobId(platform),
      attempts: this.deps.deliveryAttempts,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    const queues = this.deps.queues[priority];
    const adds: Promise<unknown>[] = [];
    for (const platform of ['web', 'tv'] as const) {
      if (socketItems[platform].length > 0) adds.push(queues[platform].add(platform, { items: socketItems[platform] }, options(platform)));
    }
    for (const platform of ['ios', 'android'] as const) {
      if (signals[platform].size > 0) adds.push(queues[platform].add(platform, { signals: [...signals[platform].values()] }, options(platform)));
    }
    await Promise.all(adds);
  }

  private async acknowledge(priority: Priority, partition: number, entries: readonly StreamEntry[], events: AcceptedEvent[]): Promise<void> {
    const { redis, keys, dedupWindowMs } = this.deps;
    const entryArgs = entries.flatMap((entry) => [entry.id, entry.events.length]);
    await this.buckets.run((bucket) =>
      ackEntries.run(
        redis,
        [keys.stream(priority, partition), keys.backlog(priority, partition), keys.routed(priority, partition, bucket)],
        [keys.routerGroup, dedupWindowMs, bucket, entries.length, ...entryArgs, ...events.map((event) => event.id)],
      ),
    );
  }
}

function isSocketDevice(device: DeviceRecord): boolean {
  return device.platform === 'web' || device.platform === 'tv';
}
