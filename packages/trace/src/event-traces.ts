import { PLATFORMS, PRIORITIES, PlatformSchema, livePushPosition, parseJson } from '@herald/contracts';
import type { EventTrace, GateName, GateVerdict, NoTargetsReason, Platform, Priority, TapRecord } from '@herald/contracts';
import { HistoryEntrySchema } from '@herald/history';
import type { HistoryEntry } from '@herald/history';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { TraceBuckets } from './trace-buckets.js';
import { FailureRecordSchema, JobPushRecordSchema, RoutingRecordSchema, TapEntrySchema, parseLiveSent, traceField } from './trace-records.js';
import type { RoutingRecord } from './trace-records.js';

export interface EventTracesOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  /** Stream partitions per priority (where to look for an event's trace). */
  partitions: Record<Priority, number>;
  /** How long traces are kept; 0 turns tracing off. */
  windowMs: number;
  /** The idempotency window: how long accepted (and routed) ids are remembered, per bucket. */
  dedupWindowMs: number;
  now?: () => number;
}

export interface TapOptions {
  /** A connection of its own: the tap blocks on XREAD. */
  redis: RedisClient;
  /** Only this account's events. */
  accountId?: string;
  /** Stops the tap. */
  signal: AbortSignal;
  /** XREAD BLOCK time, so an abort is noticed within it (default 1000 ms). */
  blockMs?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function throwOnError(replies: [Error | null, unknown][] | null): unknown[] {
  return (replies ?? []).map(([error, value]) => {
    if (error !== null) throw error;
    return value;
  });
}

type Deliveries = Pick<EventTrace, 'pushes' | 'failures'>;

/** What one partition holds of an event: queued (accepted, not routed), and the router's record if any. */
interface Found {
  priority: Priority;
  queued: boolean;
  /** The trace bucket holding the router's record, and the record as written. */
  routed?: { key: string; raw: string };
}

/** The mobile platforms, whose pushes are the delivery jobs' signals (web and TV: what the gateway sent). */
const SIGNAL_PLATFORMS = ['ios', 'android'] as const satisfies readonly Platform[];

/**
 * Event traces and the live tap: the "why didn't my TV get it?" tools.
 *
 * Writers: the router's acknowledgement script (its verdicts, atomically with the ack), the
 * delivery workers (mobile signals sent, failures) and the gateway (each notification it sent
 * to a web or TV device, and device acks, in the per-event `trace` hash). Ingest writes nothing extra: an event it accepted and the router has not
 * finished is found in the idempotency sets (accepted, not routed) and shown as queued.
 */
export class EventTraces {
  readonly buckets: TraceBuckets;
  private readonly now: () => number;

  constructor(private readonly options: EventTracesOptions) {
    this.buckets = new TraceBuckets(options.keys, options.windowMs);
    this.now = options.now ?? Date.now;
  }

  /** The trace of an event accepted within the window; undefined when unknown. */
  async read(eventId: string): Promise<EventTrace | undefined> {
    if (!this.buckets.enabled) return undefined;
    const { redis, keys } = this.options;
    // One pipeline per partition: its idempotency sets and trace buckets share its slot (on a
    // Cluster, one master), and the ordering argument below holds within one server only. The
    // gateway's per-event hash lives in the event's own slot: read on its own.
    const buckets = this.buckets.bucketsToRead(this.now());
    const [perPartition, gateway] = await Promise.all([
      Promise.all(this.partitions().map(({ priority, partition }) => this.readPartition(priority, partition, eventId, buckets))),
      redis.hgetall(keys.trace(eventId)),
    ]);

    const found = perPartition.find((p) => p.routed !== undefined);
    const parsed = found?.routed === undefined ? undefined : RoutingRecordSchema.safeParse(parseJson(found.routed.raw));
    const record = parsed?.success === true ? parsed.data : undefined;
    if (found === undefined || record === undefined) {
      const queuedIn = perPartition.find((p) => p.queued)?.priority;
      return queuedIn === undefined ? undefined : { id: eventId, priority: queuedIn, status: 'queued', gates: [], pushes: [], failures: [], acks: [] };
    }
    const { priority } = found;
    const [entry, jobs] = await Promise.all([
      record.k === undefined ? undefined : this.historyEntry(record.a, record.k),
      this.jobDeliveries(found.routed!.key, record),
    ]);
    return this.assemble(eventId, priority, record, entry, jobs, gateway);
  }

  /**
   * What one partition holds of an event, in one pipeline: whether it is queued (in the
   * partition's accepted-ids sets and not in its routed-ids sets, per idempotency bucket), and
   * the router's record in the partition's trace buckets. The sets are read first, the record
   * after: the router writes its record and marks the id routed in one script, so whenever the
   * sets still say "not routed", a record read later is either there or not yet written; never
   * "routed, and no record" by a race.
   */
  private async readPartition(priority: Priority, partition: number, eventId: string, traceBuckets: readonly number[]): Promise<Found> {
    const { redis, keys, dedupWindowMs } = this.options;
    const pipeline = redis.pipeline();
    const bucket = Math.floor(this.now() / dedupWindowMs);
    for (const b of [bucket + 1, bucket, bucket - 1]) {
      pipeline.sismember(keys.seen(priority, partition, b), eventId);
      pipeline.sismember(keys.routed(priority, partition, b), eventId);
    }
    const traceKeys = traceBuckets.map((b) => keys.traces(priority, partition, b));
    for (const key of traceKeys) pipeline.hget(key, traceField.routed(eventId));
    const replies = throwOnError(await pipeline.exec());
    const flags = replies.slice(0, 6) as number[];
    const seen = flags[0] === 1 || flags[2] === 1 || flags[4] === 1;
    const routedIds = flags[1] === 1 || flags[3] === 1 || flags[5] === 1;
    const routedAt = replies.slice(6).findIndex((raw) => raw !== null);
    return {
      priority,
      queued: seen && !routedIds,
      ...(routedAt < 0 ? {} : { routed: { key: traceKeys[routedAt]!, raw: replies[6 + routedAt] as string } }),
    };
  }

  /** Routing records as the router writes them, from now on, until the signal aborts. */
  async *tap(options: TapOptions): AsyncGenerator<TapRecord> {
    const { keys } = this.options;
    const blockMs = options.blockMs ?? 1000;
    let lastId = '$';
    while (!options.signal.aborted) {
      const reply = (await options.redis.xread('COUNT', 100, 'BLOCK', blockMs, 'STREAMS', keys.tap, lastId)) as [string, [string, string[]][]][] | null;
      if (reply === null) continue;
      for (const [, entries] of reply) {
        for (const [id, fieldValues] of entries) {
          lastId = id;
          const raw = fieldValues[fieldValues.indexOf('r') + 1];
          const parsed = TapEntrySchema.safeParse(raw === undefined ? undefined : parseJson(raw));
          if (!parsed.success) continue;
          for (const record of parsed.data) {
            if (options.signal.aborted) return;
            if (options.accountId === undefined || record.accountId === options.accountId) yield record;
          }
        }
      }
    }
  }

  private partitions(): { priority: Priority; partition: number }[] {
    return PRIORITIES.flatMap((priority) => Array.from({ length: this.options.partitions[priority] }, (_, partition) => ({ priority, partition })));
  }

  /**
   * Where a routed event went, from its router batch's trace hash: for its web and TV devices,
   * when a gateway sent it to them live; for its mobile devices, when their job sent its signals;
   * and the batch's jobs that failed for good.
   */
  private async jobDeliveries(key: string, record: RoutingRecord): Promise<Deliveries> {
    const deliveries: Deliveries = { pushes: [], failures: [] };
    if (record.b === undefined) return deliveries;
    const batch = record.b;
    // Web and TV: what gateways sent of the live message that carried the event's push;
    // mobile: each job's signals.
    const live = (['web', 'tv'] as const).flatMap((platform) => {
      const number = record.lp?.[platform];
      if (number === undefined) return [];
      const [message, index] = livePushPosition(number);
      return [{ platform, index, field: traceField.liveSent(batch, platform, message) }];
    });
    const values = await this.options.redis.hmget(
      key,
      ...SIGNAL_PLATFORMS.map((platform) => traceField.jobPushed(batch, platform)),
      ...PLATFORMS.map((platform) => traceField.jobFailed(batch, platform)),
      ...live.map(({ field }) => field),
    );
    SIGNAL_PLATFORMS.forEach((platform, i) => {
      const push = JobPushRecordSchema.safeParse(parseJson(values[i] ?? 'null'));
      if (push.success) for (const deviceId of record.pd?.[platform] ?? []) deliveries.pushes.push({ deviceId, platform, at: iso(push.data.at) });
    });
    PLATFORMS.forEach((platform, i) => {
      const fail = FailureRecordSchema.safeParse(parseJson(values[SIGNAL_PLATFORMS.length + i] ?? 'null'));
      if (fail.success) deliveries.failures.push({ platform, at: iso(fail.data.at), error: fail.data.e });
    });
    live.forEach(({ platform, index }, i) => {
      const devices = record.pd?.[platform] ?? [];
      for (const sent of parseLiveSent(values[SIGNAL_PLATFORMS.length + PLATFORMS.length + i] ?? '')) {
        const deviceId = sent.push === index ? devices[sent.device] : undefined;
        if (deviceId !== undefined) deliveries.pushes.push({ deviceId, platform, at: iso(sent.at) });
      }
    });
    return deliveries;
  }

  /** A routed event's own fields, from its history entry while the history still has it. */
  private async historyEntry(accountId: string, cursor: string): Promise<HistoryEntry | undefined> {
    const entries = (await this.options.redis.xrange(this.options.keys.history(accountId), cursor, cursor)) as [string, string[]][];
    const fieldValues = entries[0]?.[1];
    if (fieldValues === undefined) return undefined;
    const entry = HistoryEntrySchema.safeParse(parseJson(fieldValues[fieldValues.indexOf('e') + 1] ?? ''));
    return entry.success ? entry.data : undefined;
  }

  private assemble(
    eventId: string,
    priority: Priority,
    record: RoutingRecord,
    entry: HistoryEntry | undefined,
    jobs: Deliveries,
    gateway: Record<string, string>,
  ): EventTrace {
    const { failures } = jobs;
    const pushes = [...jobs.pushes, ...sentByGateway(gateway)].sort((a, b) => a.at.localeCompare(b.at));
    const ackList = Object.entries(gateway)
      .filter(([field, at]) => field.startsWith('ack:') && Number.isFinite(Number(at)))
      .map(([field, at]) => ({ deviceId: field.slice(4), at: iso(Number(at)) }))
      .sort((a, b) => a.at.localeCompare(b.at));
    const type = record.t ?? entry?.type;
    const profileId = record.p ?? entry?.profileId;
    const createdAt = record.c ?? entry?.createdAt;
    return {
      id: eventId,
      priority,
      status: record.v === 'routed' ? 'routed' : 'dropped',
      verdict: record.v,
      acceptedAt: iso(record.ac),
      ...(type === undefined ? {} : { type }),
      accountId: record.a,
      ...(profileId === undefined ? {} : { profileId }),
      ...(createdAt === undefined ? {} : { createdAt: iso(createdAt) }),
      routedAt: iso(record.at),
      gates: gatesOf(record, record.d ?? entry?.devices),
      ...(record.k === undefined ? {} : { cursor: record.k }),
      pushes,
      failures,
      acks: ackList,
    };
  }
}

/** Why an event had no targets, in words (the trace's, the CLI's and the tap page's). */
export const NO_TARGETS_REASONS: Record<NoTargetsReason, string> = {
  no_devices: 'no devices registered for this account',
  none_match: "none of the account's devices matches its type's platforms or the event's targets",
};

const GATE_ORDER: readonly GateName[] = ['stale', 'duplicate', 'targeting', 'history', 'online'];

/** The gates in order, with what each decided; those after the dropping gate are skipped, and both say why. */
function gatesOf(record: RoutingRecord, targeted: string[] | undefined): GateVerdict[] {
  const dropAt = { stale: 0, duplicate: 1, no_targets: 2, routed: 5 }[record.v];
  const verdict = (index: number): GateVerdict['verdict'] => (index < dropAt ? 'passed' : index === dropAt ? 'dropped' : 'skipped');
  const dropped = {
    stale: `older than its type's staleAfterMs when it was routed${record.c === undefined ? '' : ` (created ${record.at - record.c} ms before)`}`,
    duplicate: 'an event with this id was already routed within the idempotency window',
    no_targets: NO_TARGETS_REASONS[record.r ?? 'none_match'],
    routed: '',
  }[record.v];
  const reason = (index: number): { reason?: string } =>
    index === dropAt ? { reason: dropped } : index > dropAt ? { reason: `not reached: the ${GATE_ORDER[dropAt]} gate dropped the event (${record.v})` } : {};
  return [
    { gate: 'stale', verdict: verdict(0), ...reason(0) },
    { gate: 'duplicate', verdict: verdict(1), ...reason(1) },
    { gate: 'targeting', verdict: verdict(2), ...reason(2), ...(targeted === undefined || targeted.length === 0 ? {} : { devices: targeted }) },
    { gate: 'history', verdict: verdict(3), ...reason(3), ...(record.k === undefined ? {} : { cursor: record.k }) },
    { gate: 'online', verdict: verdict(4), ...reason(4), devices: [...(record.pd?.web ?? []), ...(record.pd?.tv ?? [])] },
  ];
}

/** The gateway's `sent:<platform>:<deviceId>` fields: what reached web and TV devices' sockets. */
function sentByGateway(fields: Record<string, string>): EventTrace['pushes'] {
  const pushes: EventTrace['pushes'] = [];
  for (const [field, at] of Object.entries(fields)) {
    if (!field.startsWith('sent:') || !Number.isFinite(Number(at))) continue;
    const colon = field.indexOf(':', 5);
    const platform = PlatformSchema.safeParse(field.slice(5, colon));
    if (colon < 0 || !platform.success) continue;
    pushes.push({ deviceId: field.slice(colon + 1), platform: platform.data, at: iso(Number(at)) });
  }
  return pushes;
}
