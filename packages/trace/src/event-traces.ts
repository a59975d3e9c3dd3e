import { PLATFORMS, PRIORITIES } from '@herald/contracts';
import type { EventTrace, GateVerdict, Platform, Priority, TapRecord } from '@herald/contracts';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { TraceBuckets } from './trace-buckets.js';
import { FailureRecordSchema, PushRecordSchema, QueuedEventSchema, RoutingRecordSchema, TapEntrySchema, parseJson, traceField } from './trace-records.js';
import type { RoutingRecord } from './trace-records.js';

export interface EventTracesOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  /** Stream partitions per priority (where to look for an event's trace). */
  partitions: Record<Priority, number>;
  /** How long traces are kept; 0 turns tracing off. */
  windowMs: number;
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
const entryMs = (entryId: string) => Number(entryId.slice(0, entryId.indexOf('-')));

/** What one bucket hash held for the event (null: field absent). */
interface Found {
  priority: Priority;
  partition: number;
  entryId: string | null;
  routed: string | null;
  pushed: (string | null)[];
  failed: (string | null)[];
}

/**
 * Event traces and the live tap: the "why didn't my TV get it?" tools.
 *
 * Writers: ingest's accept script (the stream entry id), the router's acknowledgement script
 * (its verdicts, atomically with the ack), the delivery workers (pushes and failures) and the
 * gateway (device acks, in the per-event `trace` hash). This class reads them back.
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
    const { redis, keys, partitions } = this.options;
    const fields = [
      traceField.accepted(eventId),
      traceField.routed(eventId),
      ...PLATFORMS.map((platform) => traceField.pushed(eventId, platform)),
      ...PLATFORMS.map((platform) => traceField.failed(eventId, platform)),
    ];
    const places: { priority: Priority; partition: number }[] = [];
    const pipeline = redis.pipeline();
    for (const bucket of this.buckets.bucketsToRead(this.now())) {
      for (const priority of PRIORITIES) {
        for (let partition = 0; partition < partitions[priority]; partition++) {
          places.push({ priority, partition });
          pipeline.hmget(keys.traces(priority, partition, bucket), ...fields);
        }
      }
    }
    pipeline.hgetall(keys.trace(eventId));
    const replies = (await pipeline.exec()) ?? [];
    const failure = replies.find(([error]) => error !== null);
    if (failure !== undefined) throw failure[0];

    const found: Found[] = [];
    places.forEach((place, i) => {
      const values = replies[i]![1] as (string | null)[];
      if (values.every((value) => value === null)) return;
      found.push({
        ...place,
        entryId: values[0]!,
        routed: values[1]!,
        pushed: values.slice(2, 2 + PLATFORMS.length),
        failed: values.slice(2 + PLATFORMS.length),
      });
    });
    const acks = replies[places.length]![1] as Record<string, string>;
    return this.assemble(eventId, found, acks);
  }

  /** Routing records as the router writes them, from now on, until the signal aborts. */
  async *tap(options: TapOptions): AsyncGenerator<TapRecord> {
    const { keys } = this.options;
    const blockMs = options.blockMs ?? 1000;
    let lastId = '$';
    while (!options.signal.aborted) {
      const reply = (await options.redis.xread('COUNT', 100, 'BLOCK', blockMs, 'STREAMS', keys.tap, lastId)) as
        | [string, [string, string[]][]][]
        | null;
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

  private async assemble(eventId: string, found: Found[], acks: Record<string, string>): Promise<EventTrace | undefined> {
    const entryId = found.map((f) => f.entryId).find((id) => id !== null) ?? undefined;
    const routedRaw = found.map((f) => f.routed).find((raw) => raw !== null) ?? undefined;
    const routed = routedRaw === undefined ? undefined : RoutingRecordSchema.safeParse(parseJson(routedRaw));
    const record = routed?.success === true ? routed.data : undefined;
    // Pushes or acks alone (their event's marks expired first) are not a trace.
    const place = found.find((f) => f.entryId !== null) ?? found.find((f) => f.routed !== null);
    if (place === undefined || (entryId === undefined && record === undefined)) return undefined;

    const pushes: EventTrace['pushes'] = [];
    const failures: EventTrace['failures'] = [];
    for (const f of found) {
      PLATFORMS.forEach((platform: Platform, i) => {
        const push = PushRecordSchema.safeParse(parseJson(f.pushed[i] ?? 'null'));
        if (push.success) for (const deviceId of push.data.d) pushes.push({ deviceId, platform, at: iso(push.data.at) });
        const fail = FailureRecordSchema.safeParse(parseJson(f.failed[i] ?? 'null'));
        if (fail.success) failures.push({ platform, at: iso(fail.data.at), error: fail.data.e });
      });
    }
    const ackList = Object.entries(acks)
      .filter(([field, at]) => field.startsWith('ack:') && Number.isFinite(Number(at)))
      .map(([field, at]) => ({ deviceId: field.slice(4), at: iso(Number(at)) }))
      .sort((a, b) => a.at.localeCompare(b.at));

    const event = record === undefined && entryId !== undefined ? await this.queuedEvent(place, entryId, eventId) : undefined;
    const acceptedAtMs = entryId === undefined ? undefined : entryMs(entryId);
    return {
      id: eventId,
      priority: place.priority,
      status: record === undefined ? 'queued' : record.v === 'routed' ? 'routed' : 'dropped',
      acceptedAt: iso(acceptedAtMs ?? record?.ac ?? event?.acceptedAt ?? 0),
      ...(record !== undefined
        ? { type: record.t, accountId: record.a, ...(record.p === undefined ? {} : { profileId: record.p }), createdAt: iso(record.c), routedAt: iso(record.at) }
        : event !== undefined
          ? { type: event.type, accountId: event.accountId, ...(event.profileId === undefined ? {} : { profileId: event.profileId }), createdAt: iso(event.createdAt) }
          : {}),
      gates: record === undefined ? [] : gatesOf(record),
      ...(record?.k === undefined ? {} : { cursor: record.k }),
      pushes,
      failures,
      acks: ackList,
    };
  }

  /** A queued event's own fields, read from its stream entry while the stream still has it. */
  private async queuedEvent(place: Found, entryId: string, eventId: string) {
    const entries = (await this.options.redis.xrange(this.options.keys.stream(place.priority, place.partition), entryId, entryId)) as [string, string[]][];
    const fieldValues = entries[0]?.[1];
    if (fieldValues === undefined) return undefined;
    const events = parseJson(fieldValues[fieldValues.indexOf('e') + 1] ?? '[]');
    if (!Array.isArray(events)) return undefined;
    const event = QueuedEventSchema.array().safeParse(events.filter((e: { id?: unknown }) => e.id === eventId));
    return event.success ? event.data[0] : undefined;
  }
}

/** The gates in order, with what each decided; those after the dropping gate are skipped. */
function gatesOf(record: RoutingRecord): GateVerdict[] {
  const dropAt = { stale: 0, duplicate: 1, no_targets: 2, routed: 5 }[record.v];
  const verdict = (index: number): GateVerdict['verdict'] => (index < dropAt ? 'passed' : index === dropAt ? 'dropped' : 'skipped');
  return [
    { gate: 'stale', verdict: verdict(0) },
    { gate: 'duplicate', verdict: verdict(1) },
    { gate: 'targeting', verdict: verdict(2), ...(record.d === undefined ? {} : { devices: record.d }) },
    { gate: 'history', verdict: verdict(3), ...(record.k === undefined ? {} : { cursor: record.k }) },
    { gate: 'online', verdict: verdict(4), devices: record.o ?? [] },
  ];
}
