import type { Queue } from 'bullmq';
import type { EventCatalog } from '@herald/catalog';
import { encodeLiveMessages, encodeLivePush } from '@herald/contracts';
import type { AcceptedEvent, DeviceRecord, NoTargetsReason, Platform, Priority, RoutingVerdict, TapRecord } from '@herald/contracts';
import type { DeviceRegistry, Presence } from '@herald/devices';
import { toNotification } from '@herald/history';
import type { History, HistoryEntry } from '@herald/history';
import type { LiveStream } from '@herald/live';
import type { Logger } from '@herald/runtime';
import { RedisScript, RedisTimeBuckets, serverOf, waitForReplicas } from '@herald/redis';
import type { KeyBuilder, RedisClient, ReplicaAcks } from '@herald/redis';
import { traceField } from '@herald/trace';
import type { EventDelivery, TraceRecorder } from '@herald/trace';
import { JOB_RETENTION, PUSH_BACKOFF } from '../jobs.js';
import type { PushSignal, SocketDeliveryJob, SocketItem } from '../jobs.js';
import type { WorkerMetrics } from '../worker-metrics.js';
import { isStale, resolveTargets } from './gates.js';
import { Slots } from './slots.js';
import type { StreamEntry } from './stream-entry.js';

/**
 * Accounts of one batch whose Redis work (devices, history, presence) is in flight at once.
 * Enough to pipeline well; few enough that a batch of a low priority never queues hundreds of
 * scripts in Redis ahead of a high-priority command (Redis serves commands in arrival order).
 */
const ACCOUNTS_IN_FLIGHT = 16;

const ackEntries = RedisScript.fromFile(new URL('../../lua/', import.meta.url), 'ack-entries-5');

/** No device online (before presence is read). */
const NOBODY: ReadonlySet<string> = new Set();

/** The delivery queues of one priority, per platform. */
export type DeliveryQueues = Record<Platform, Queue>;

export interface BatchRouterDeps {
  redis: RedisClient;
  keys: KeyBuilder;
  catalog: EventCatalog;
  devices: DeviceRegistry;
  presence: Presence;
  history: History;
  /** The delivery queues of the priority this router routes. */
  queues: DeliveryQueues;
  /** The connection the queues use (for WAIT on what they wrote, see `replicaAcks`). */
  queueConnection?: RedisClient;
  /** Where web/TV jobs' live messages are staged for the delivery to move into the live streams. */
  live: LiveStream;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Writes each event's verdicts to its trace and to the live tap. */
  traces: TraceRecorder;
  /** How long a routed event id is remembered by the duplicate gate. */
  dedupWindowMs: number;
  /** BullMQ attempts of a delivery job (retries with exponential backoff). */
  deliveryAttempts: number;
  /**
   * How long a delivery job's id is remembered after the job is made, completed or not, so a
   * batch retried by another worker (after a crash: the lease, then the reclaim idle time)
   * does not make its jobs again. Completed jobs themselves are kept only a few (for the board).
   */
  jobDedupMs: number;
  /**
   * Replicas that must have a batch's history appends, staged live messages and jobs before its
   * entries are acknowledged (WAIT; default none): an acknowledged entry is never routed again,
   * so what it wrote must survive a master's failover.
   */
  replicaAcks?: ReplicaAcks;
  now?: () => number;
}

/** What a batch's fan-out wrote: its staged live message lists and the queues it added jobs to. */
interface Written {
  staged: string[];
  queues: Queue[];
}

interface Routed {
  event: AcceptedEvent;
  targets: DeviceRecord[];
  /** The account's devices with live presence (read after the history append). */
  online: ReadonlySet<string>;
  cursor?: string;
  /** The cursor of the history entry before this one (null: none; undefined: not known, a retry). */
  prev?: string | null;
}

/** What the router decided for each event of a batch, for traces, the tap and debug logs. */
class BatchDecisions {
  readonly records: TapRecord[] = [];
  /** Events per verdict, for the gate metrics (counted once the batch is done). */
  readonly counts = new Map<RoutingVerdict, number>();
  /** Routed events that went into this batch's delivery jobs: the devices per platform (for traces). */
  readonly deliveries = new Map<string, EventDelivery>();
  private readonly byId = new Map<string, TapRecord>();

  constructor(
    private readonly priority: Priority,
    private readonly routedAt: number,
  ) {}

  add(event: AcceptedEvent, verdict: RoutingVerdict, targets: readonly DeviceRecord[] = [], cursor?: string, noTargets?: NoTargetsReason): void {
    // Built field by field, without spreads: one for every event of every batch.
    const record: TapRecord = {
      id: event.id,
      type: event.type,
      accountId: event.accountId,
      priority: this.priority,
      createdAt: event.createdAt,
      acceptedAt: event.acceptedAt,
      routedAt: this.routedAt,
      verdict,
      targeted: targets.map((device) => device.deviceId),
      online: [],
    };
    if (event.profileId !== undefined) record.profileId = event.profileId;
    if (cursor !== undefined) record.cursor = cursor;
    if (noTargets !== undefined) record.noTargets = noTargets;
    this.records.push(record);
    this.byId.set(event.id, record);
    this.counts.set(verdict, (this.counts.get(verdict) ?? 0) + 1);
  }

  /**
   * The event goes to these devices of `platform` in this batch's delivery job `batch`; web and
   * TV devices passed the online gate.
   */
  deliver(eventId: string, batch: string, platform: Platform, deviceIds: string[]): EventDelivery {
    let delivery = this.deliveries.get(eventId);
    if (delivery === undefined) this.deliveries.set(eventId, (delivery = { batch, devices: {} }));
    (delivery.devices[platform] ??= []).push(...deviceIds);
    return delivery;
  }

  /** The event's push to these web or TV devices (which passed the online gate) is its job's push number `number`. */
  deliverLive(eventId: string, batch: string, platform: 'web' | 'tv', deviceIds: string[], number: number): void {
    this.byId.get(eventId)?.online.push(...deviceIds);
    const delivery = this.deliver(eventId, batch, platform, deviceIds);
    (delivery.live ??= {})[platform] = number;
  }

  /** Records for the traces: a duplicate's trace is the one its first routing wrote. */
  get traced(): TapRecord[] {
    return this.records.filter((record) => record.verdict !== 'duplicate');
  }
}

/**
 * Routes a batch of one partition's stream entries: the gates (stale, duplicate, targeting),
 * the history append, the online gate, one delivery job per platform, then the
 * acknowledgement. Crash-safe by construction: history appends are idempotent per event id,
 * jobs have deterministic ids, and entries are acknowledged only after both are written, so
 * a retried batch neither loses nor duplicates. One per priority: its Redis connection and
 * delivery queues are that priority's own.
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
    const now = this.now();
    const decisions = new BatchDecisions(priority, now);

    const fresh: AcceptedEvent[] = [];
    for (const event of events) {
      if (isStale(event, this.deps.catalog, now)) decisions.add(event, 'stale');
      else fresh.push(event);
    }
    // The duplicate gate's look-up goes out with the first accounts' device reads (one round
    // trip, not two); each account waits for it before its history append.
    const seen = this.alreadyRouted(
      priority,
      partition,
      fresh.map((event) => event.id),
    );
    const traceKey = this.deps.traces.buckets.key(priority, partition, now);
    const routed = await this.targetAndRecord(priority, partition, fresh, seen, decisions);
    const written = await this.fanOut(priority, partition, entries, routed, decisions, traceKey);
    await this.confirmReplicated(routed, written);
    await this.acknowledge(priority, partition, entries, events, this.deps.traces.routingFields(decisions.traced, decisions.deliveries), traceKey);
    this.deps.metrics.entriesRouted.inc({ priority }, entries.length);
    for (const [verdict, events] of decisions.counts) this.deps.metrics.gateOutcomes.inc({ priority, verdict }, events);
    this.log(decisions.records);
    // The tap is for eyes: best effort, after the work is safely done.
    this.deps.traces.publishTap(decisions.records).catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not write the live tap'));
  }

  private log(records: readonly TapRecord[]): void {
    const { logger } = this.deps;
    if (!logger.isLevelEnabled('debug')) return;
    for (const record of records) {
      logger.debug(
        {
          eventId: record.id,
          accountId: record.accountId,
          priority: record.priority,
          verdict: record.verdict,
          cursor: record.cursor,
          targeted: record.targeted,
          online: record.online,
        },
        `event ${record.verdict}`,
      );
    }
  }

  private async alreadyRouted(priority: Priority, partition: number, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { redis, keys } = this.deps;
    const bucket = this.buckets.current(serverOf(redis, keys.stream(priority, partition)));
    const [current, previous] = await Promise.all([
      redis.smismember(keys.routed(priority, partition, bucket), ...ids),
      redis.smismember(keys.routed(priority, partition, bucket - 1), ...ids),
    ]);
    return new Set(ids.filter((_, i) => current[i] === 1 || previous[i] === 1));
  }

  /**
   * The duplicate gate, targeting and history, per account (accounts in parallel, each
   * account's events in order). `seen`: the ids already routed.
   */
  private async targetAndRecord(
    priority: Priority,
    partition: number,
    events: AcceptedEvent[],
    seen: Promise<Set<string>>,
    decisions: BatchDecisions,
  ): Promise<Routed[]> {
    const byAccount = new Map<string, AcceptedEvent[]>();
    for (const event of events) {
      const list = byAccount.get(event.accountId);
      if (list === undefined) byAccount.set(event.accountId, [event]);
      else list.push(event);
    }
    const slots = new Slots(ACCOUNTS_IN_FLIGHT);
    /** Accounts whose history grew: announced in one message once all are appended. */
    const grown: string[] = [];
    const perAccount = await Promise.all(
      [...byAccount].map(([accountId, accountEvents]) =>
        slots.run(async () => {
          const [devices, routedBefore] = await Promise.all([this.deps.devices.list(accountId), seen]);
          const routed: Routed[] = [];
          for (const event of accountEvents) {
            if (routedBefore.has(event.id)) {
              decisions.add(event, 'duplicate');
              continue;
            }
            const targets = resolveTargets(event, devices, this.deps.catalog);
            if (targets.length === 0) decisions.add(event, 'no_targets', [], undefined, devices.length === 0 ? 'no_devices' : 'none_match');
            else routed.push({ event, targets, online: NOBODY });
          }
          if (routed.length === 0) return [];
          const entries: HistoryEntry[] = routed.map(({ event, targets }) => ({ ...event, devices: targets.map((d) => d.deviceId) }));
          const outcomes = await this.deps.history.append(accountId, entries);
          if (outcomes.some((outcome) => outcome.appended)) grown.push(accountId);
          // Presence is read after the append has run: a gateway marks a device online before its
          // replay reads history, so the device either was online here (and gets the push) or
          // came online after, and its replay reads this entry. Nothing falls between the two.
          const online = await this.deps.presence.onlineDevices(accountId);
          routed.forEach((r, i) => {
            const { cursor, prev } = outcomes[i]!;
            decisions.add(r.event, 'routed', r.targets, cursor);
            r.online = online;
            r.cursor = cursor;
            if (prev !== undefined) r.prev = prev;
          });
          return routed;
        }),
      ),
    );
    // History is the truth: before any device can see a notification (a push, a woken long-poll),
    // its entry must survive a failover of its account's master, or the batch routed again would
    // give the event a second cursor, and the device would see it twice.
    if (this.deps.replicaAcks !== undefined)
      await waitForReplicas(
        this.deps.redis,
        grown.map((accountId) => this.deps.keys.history(accountId)),
        this.deps.replicaAcks,
      );
    // Wakes long-polls, while the fan-out goes on (best effort: a poll not woken answers at its timeout).
    void this.deps.history
      .announce(priority, partition, grown)
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not announce grown histories'));
    return perAccount.flat();
  }

  /** The online gate and one delivery job per platform with work, with a deterministic id. */
  private async fanOut(
    priority: Priority,
    partition: number,
    entries: readonly StreamEntry[],
    routed: Routed[],
    decisions: BatchDecisions,
    traceKey: string,
  ): Promise<Written> {
    if (routed.length === 0) return { staged: [], queues: [] };
    // The batch's name: its entries, so a retried batch makes the same jobs (deterministic ids).
    const batch = `${entries[0]!.id}.${entries[entries.length - 1]!.id}.${entries.length}`;
    // Per web/TV platform: the job's items, and the live pushes staged for it (JSON, in order).
    const socket = { web: { items: [] as SocketItem[], pushes: [] as string[] }, tv: { items: [] as SocketItem[], pushes: [] as string[] } };
    const signals: Record<'ios' | 'android', Map<string, PushSignal>> = { ios: new Map(), android: new Map() };

    for (const { event, targets, online, cursor, prev } of routed) {
      if (cursor === undefined) continue;
      // Serialized once, here: the staged live messages carry this JSON to the gateways as it is.
      let notification: string | undefined;
      for (const platform of ['web', 'tv'] as const) {
        const deviceIds = targets.filter((d) => d.platform === platform && online.has(d.deviceId)).map((d) => d.deviceId);
        if (deviceIds.length > 0) {
          notification ??= JSON.stringify(toNotification(cursor, event));
          socket[platform].items.push({ accountId: event.accountId, deviceIds, eventId: event.id, acceptedAt: event.acceptedAt });
          decisions.deliverLive(event.id, batch, platform, deviceIds, socket[platform].pushes.length);
          socket[platform].pushes.push(encodeLivePush(event.accountId, deviceIds, prev, notification));
        }
      }
      for (const device of targets) {
        if (device.platform !== 'ios' && device.platform !== 'android') continue;
        decisions.deliver(event.id, batch, device.platform, [device.deviceId]);
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

    const jobId = (platform: Platform) => `${priority}.${partition}.${batch}.${platform}`;
    const options = (platform: Platform) => ({
      jobId: jobId(platform),
      deduplication: { id: jobId(platform), ttl: this.deps.jobDedupMs },
      attempts: this.deps.deliveryAttempts,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: JOB_RETENTION.completed,
      removeOnFail: JOB_RETENTION.failed,
    });
    const { queues, keys, live, redis } = this.deps;
    const adds: Promise<unknown>[] = [];
    const written: Written = { staged: [], queues: [] };
    for (const platform of ['web', 'tv'] as const) {
      const { items, pushes } = socket[platform];
      if (items.length === 0) continue;
      // The gateways record what they send live in the batch's trace hash (one field per message).
      const trace = this.deps.traces.buckets.enabled ? { key: traceKey, field: (message: number) => traceField.liveSent(batch, platform, message) } : undefined;
      const messages = encodeLiveMessages(pushes, trace);
      const staged = keys.liveStaged(priority, partition, batch, platform);
      const job: SocketDeliveryJob = { priority, partition, staged, items, traceKey, batch };
      written.staged.push(staged);
      written.queues.push(queues[platform]);
      // Staged before the job exists (the job may run at once, on any worker).
      adds.push(live.stage(redis, staged, messages).then(() => queues[platform].add(platform, job, options(platform))));
    }
    for (const platform of ['ios', 'android'] as const) {
      if (signals[platform].size > 0) written.queues.push(queues[platform]);
      if (signals[platform].size > 0)
        adds.push(
          queues[platform].add(platform, { signals: [...signals[platform].values()], traceKey, batch }, { ...options(platform), backoff: PUSH_BACKOFF }),
        );
    }
    await Promise.all(adds);
    return written;
  }

  /**
   * Waits until the replicas asked for (`replicaAcks`) have what this batch's fan-out wrote before
   * its entries are acknowledged: its staged live messages (on this priority's connection, whose
   * writes they were) and its jobs (on the queues' connection). Its histories were confirmed
   * before the fan-out.
   */
  private async confirmReplicated(routed: readonly Routed[], written: Written): Promise<void> {
    const acks = this.deps.replicaAcks;
    if (acks === undefined || acks.replicas === 0 || routed.length === 0) return;
    const { queueConnection } = this.deps;
    if (queueConnection === undefined) throw new Error("replicaAcks needs the queues' connection (queueConnection)");
    await Promise.all([
      waitForReplicas(this.deps.redis, written.staged, acks),
      waitForReplicas(
        queueConnection,
        written.queues.map((queue) => queue.toKey('id')),
        acks,
      ),
    ]);
  }

  private async acknowledge(
    priority: Priority,
    partition: number,
    entries: readonly StreamEntry[],
    events: AcceptedEvent[],
    traceFields: string[],
    traceKey: string,
  ): Promise<void> {
    const { redis, keys, dedupWindowMs, traces } = this.deps;
    const entryArgs = entries.flatMap((entry) => [entry.id, entry.events.length]);
    await this.buckets.run(serverOf(redis, keys.stream(priority, partition)), (bucket) =>
      ackEntries.run(
        redis,
        [
          keys.stream(priority, partition),
          keys.backlog(priority, partition),
          keys.routed(priority, partition, bucket),
          keys.routedTotal(priority, partition),
          traceKey,
        ],
        [
          keys.routerGroup,
          dedupWindowMs,
          bucket,
          traces.buckets.enabled ? traces.buckets.ttlMs : 0,
          entries.length,
          events.length,
          ...entryArgs,
          ...events.map((event) => event.id),
          ...traceFields,
        ],
      ),
    );
  }
}
