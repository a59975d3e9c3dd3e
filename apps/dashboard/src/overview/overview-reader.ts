import { z } from 'zod';
import { GatewayNodeEntrySchema, PLATFORMS, PRIORITIES, compareCursors, parseJson } from '@herald/contracts';
import type { Platform, Priority } from '@herald/contracts';
import { whenReady } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { DeliveryQueue } from '../queues/delivery-queues.js';
import type { DeadLetterSummary, Overview, PlatformOverview, PriorityOverview, QueueOverview } from './overview-schema.js';
import { overloadOverview, readOverloadBoard, shedCounters } from './overload-overview.js';
import { RateSampler } from './rate-sampler.js';
import type { RateSamplerOptions, SampleDeltas } from './rate-sampler.js';
import { DeadLetterFieldsSchema, RedisTimeSchema, XinfoGroupsSchema, XpendingSummarySchema, entryIdMs } from './redis-replies.js';

export interface OverviewReaderOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  /** Stream partitions per priority (as ingest and the worker are configured). */
  partitions: Record<Priority, number>;
  queues: readonly DeliveryQueue[];
  readOnly: boolean;
  sampler?: RateSamplerOptions;
  /** Dead letters listed per priority (default 5). */
  newestDeadLetters?: number;
}

/**
 * A gateway node entry older than this is ignored: heartbeats run every presence ttl / 3 and the
 * ttl is at most 30 s, so a node silent this long has lost its devices' presence too.
 */
export const GATEWAY_NODE_STALE_MS = 30_000;

/** Counters kept by Redis, read as integers; a missing key is 0, and so is garbage. */
const CounterSchema = z.coerce.number().int().nonnegative().catch(0);

/** Errors a stream command gives before the stream or the router's group exists: nothing to count. */
const NOT_THERE_YET = /no such key|NOGROUP/i;

type Reply = [Error | null, unknown];

/** Replies of one pipeline, taken in the order the commands were queued. */
class Replies {
  private next = 0;
  constructor(private readonly replies: readonly Reply[]) {}

  /** The next reply; undefined for an expected "not there yet" error, a throw for any other. */
  take(): unknown {
    const reply = this.replies[this.next++];
    if (reply === undefined) throw new Error('overview: fewer replies than commands');
    const [error, value] = reply;
    if (error === null) return value;
    if (NOT_THERE_YET.test(error.message)) return undefined;
    throw error;
  }
}

const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
const ratio = (failed: number | undefined, completed: number | undefined) =>
  failed === undefined || completed === undefined || failed + completed === 0 ? null : failed / (failed + completed);

/**
 * Reads what the overview page shows, straight from Redis and BullMQ: one pipeline per stream
 * partition (its stream, counters and dead letters share a slot), one for the gateway nodes,
 * one getJobCounts per queue.
 * Rates (events in/out, failure rates) come from the deltas between successive reads.
 */
export class OverviewReader {
  private readonly sampler: RateSampler;
  private readonly newestDeadLetters: number;

  constructor(private readonly options: OverviewReaderOptions) {
    for (const priority of PRIORITIES) {
      const partitions = options.partitions[priority];
      if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions of ${priority} must be a positive integer`);
    }
    this.sampler = new RateSampler(options.sampler);
    this.newestDeadLetters = options.newestDeadLetters ?? 5;
  }

  async read(): Promise<Overview> {
    const { redis, keys, partitions, queues } = this.options;
    await whenReady(redis, CONNECT_WAIT_MS);
    // One pipeline per partition (its keys share a slot: on a Cluster, one master) and one for
    // the gateway nodes, each with that server's TIME, so every age is measured by the clock of
    // the server that holds the entry.
    const places = PRIORITIES.flatMap((priority) => Array.from({ length: partitions[priority] }, (_, partition) => ({ priority, partition })));
    const gatewayPipeline = redis.pipeline().time().hgetall(keys.gatewayNodes);
    // The load-shedding board is a key of its own (its own slot): read with that server's TIME.
    const overloadPipeline = redis.pipeline().time().hgetall(keys.overload);
    const [partitionReplies, gatewayReplies, overloadReplies, counts, finished] = await Promise.all([
      Promise.all(places.map(({ priority, partition }) => this.partitionPipeline(priority, partition).exec())),
      gatewayPipeline.exec(),
      overloadPipeline.exec(),
      Promise.all(queues.map(({ queue }) => queue.getJobCounts(...QUEUE_STATES))),
      // BullMQ's own running totals (the delivery workers turn its metrics on): unlike the sizes
      // of the completed and failed sets, which jobs leave (the newest 100 completed are kept), they only ever grow.
      Promise.all(
        queues.map(async ({ queue }) => [(await queue.getMetrics('completed', 0, 0)).meta.count, (await queue.getMetrics('failed', 0, 0)).meta.count] as const),
      ),
    ]);

    const g = new Replies(gatewayReplies ?? []);
    const nowMs = RedisTimeSchema.parse(g.take());
    const nodes = this.readGatewayNodes(g.take(), nowMs);
    const streams = PRIORITIES.map((priority) =>
      this.readPriority(
        priority,
        places.flatMap((place, i) => (place.priority === priority ? [new Replies(partitionReplies[i] ?? [])] : [])),
      ),
    );
    const o = new Replies(overloadReplies ?? []);
    const overloadNowMs = RedisTimeSchema.parse(o.take());
    const board = readOverloadBoard(o.take(), overloadNowMs);

    const queueCounts = queues.map(({ queue, platform, priority }, i) => {
      const c = counts[i] ?? {};
      const state = (name: (typeof QUEUE_STATES)[number]) => CounterSchema.parse(c[name]);
      return {
        name: queue.name,
        platform,
        priority,
        // Jobs added with a BullMQ priority wait in their own set; they wait all the same.
        waiting: state('waiting') + state('prioritized'),
        active: state('active'),
        delayed: state('delayed'),
        completed: state('completed'),
        failed: state('failed'),
      };
    });

    const counters = new Map<string, number>();
    for (const s of streams) {
      counters.set(`in:${s.priority}`, s.acceptedTotal);
      counters.set(`out:${s.priority}`, s.routedTotal);
    }
    queueCounts.forEach((q, i) => {
      const [completedTotal, failedTotal] = finished[i] ?? [0, 0];
      counters.set(`completed:${q.name}`, CounterSchema.parse(completedTotal));
      counters.set(`failed:${q.name}`, CounterSchema.parse(failedTotal));
    });
    for (const [name, total] of shedCounters(board)) counters.set(name, total);
    const deltas = this.sampler.observe(nowMs, counters);
    const perSecond = (name: string) => {
      const delta = deltas?.delta(name);
      return deltas === undefined || delta === undefined ? null : delta / deltas.seconds;
    };

    const priorities: PriorityOverview[] = streams.map(({ acceptedTotal: _in, routedTotal: _out, ...s }) => ({
      ...s,
      inPerSecond: perSecond(`in:${s.priority}`),
      outPerSecond: perSecond(`out:${s.priority}`),
    }));
    const queueOverviews: QueueOverview[] = queueCounts.map((q) => ({
      ...q,
      depth: q.waiting + q.active + q.delayed,
      failureRate: ratio(deltas?.delta(`failed:${q.name}`), deltas?.delta(`completed:${q.name}`)),
    }));

    return {
      at: new Date(nowMs).toISOString(),
      rateWindowSeconds: deltas?.seconds ?? null,
      readOnly: this.options.readOnly,
      priorities,
      queues: queueOverviews,
      platforms: PLATFORMS.map((platform) => platformOverview(platform, queueOverviews, deltas)),
      gateway: {
        devicesOnline: sum(nodes.map((node) => node.devices)),
        connections: sum(nodes.map((node) => node.connections)),
        nodes,
      },
      overload: overloadOverview(board, deltas),
    };
  }

  /** One partition's reads, in the order `readPriority` takes them. */
  private partitionPipeline(priority: Priority, partition: number) {
    const { redis, keys } = this.options;
    const stream = keys.stream(priority, partition);
    return redis
      .pipeline()
      .time()
      .xlen(stream)
      .xinfo('GROUPS', stream)
      .xpending(stream, keys.routerGroup)
      .get(keys.backlog(priority, partition))
      .get(keys.acceptedTotal(priority, partition))
      .get(keys.routedTotal(priority, partition))
      .xlen(keys.deadLetters(priority, partition))
      .xrevrange(keys.deadLetters(priority, partition), '+', '-', 'COUNT', this.newestDeadLetters);
  }

  /** A priority's figures from its partitions' pipelines (`byPartition[n]`: partition n's replies). */
  private readPriority(priority: Priority, byPartition: readonly Replies[]) {
    let streamLength = 0;
    let lag: number | null = 0;
    let pending = 0;
    let oldestPendingAgeMs: number | undefined;
    let backlog = 0;
    let acceptedTotal = 0;
    let routedTotal = 0;
    let deadLetterCount = 0;
    const dead: DeadLetterSummary[] = [];
    for (const [partition, r] of byPartition.entries()) {
      const nowMs = RedisTimeSchema.parse(r.take());
      const length = CounterSchema.parse(r.take());
      streamLength += length;
      const groups = r.take();
      const group = groups === undefined ? undefined : XinfoGroupsSchema.parse(groups).find((g) => g.name === this.options.keys.routerGroup);
      // No group yet: the router has read nothing, so every entry is waiting for it.
      const partitionLag = group === undefined ? length : (group.lag ?? null);
      lag = lag === null || partitionLag === null ? null : lag + partitionLag;
      const summary = r.take();
      if (summary !== undefined) {
        const [count, smallest] = XpendingSummarySchema.parse(summary);
        pending += count;
        if (count > 0 && smallest !== null) oldestPendingAgeMs = Math.max(oldestPendingAgeMs ?? 0, nowMs - entryIdMs(smallest));
      }
      backlog += CounterSchema.parse(r.take());
      acceptedTotal += CounterSchema.parse(r.take());
      routedTotal += CounterSchema.parse(r.take());
      deadLetterCount += CounterSchema.parse(r.take());
      for (const [id, fields] of z.array(z.tuple([z.string(), z.array(z.string())])).parse(r.take() ?? [])) {
        const parsed = DeadLetterFieldsSchema.safeParse(fields);
        const letter = parsed.success ? parsed.data : { entry: '', reason: '(unreadable dead letter)', n: undefined };
        dead.push({ partition, id, entry: letter.entry, reason: letter.reason, events: letter.n ?? null, at: new Date(entryIdMs(id)).toISOString() });
      }
    }
    dead.sort((a, b) => compareCursors(b.id, a.id));
    return {
      priority,
      partitions: this.options.partitions[priority],
      streamLength,
      lag,
      pending,
      oldestPendingAgeSeconds: oldestPendingAgeMs === undefined ? null : Math.max(0, oldestPendingAgeMs) / 1000,
      backlog,
      acceptedTotal,
      routedTotal,
      deadLetters: { count: deadLetterCount, newest: dead.slice(0, this.newestDeadLetters) },
    };
  }

  /** Live gateway nodes: valid entries refreshed within GATEWAY_NODE_STALE_MS of Redis's clock. */
  private readGatewayNodes(raw: unknown, nowMs: number) {
    const entries = z
      .record(z.string(), z.string())
      .catch({})
      .parse(raw ?? {});
    return Object.entries(entries)
      .flatMap(([nodeId, json]) => {
        const entry = GatewayNodeEntrySchema.safeParse(parseJson(json));
        if (!entry.success || nowMs - entry.data.at > GATEWAY_NODE_STALE_MS) return [];
        return [{ nodeId, connections: entry.data.connections, devices: entry.data.devices, at: new Date(entry.data.at).toISOString() }];
      })
      .sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }
}

function platformOverview(platform: Platform, queues: readonly QueueOverview[], deltas: SampleDeltas | undefined): PlatformOverview {
  const own = queues.filter((q) => q.platform === platform);
  /** The sum of a counter's deltas over the platform's queues; undefined when any is unknown. */
  const total = (prefix: string) => {
    let result: number | undefined = 0;
    for (const q of own) {
      const delta = deltas?.delta(`${prefix}:${q.name}`);
      result = result === undefined || delta === undefined ? undefined : result + delta;
    }
    return result;
  };
  return {
    platform,
    depth: sum(own.map((q) => q.depth)),
    failed: sum(own.map((q) => q.failed)),
    failureRate: ratio(total('failed'), total('completed')),
  };
}

/**
 * How long a read waits for a connection that is (re)connecting, else fails: ioredis would
 * otherwise hold a pipeline until Redis is back, and an operator should see "unavailable" at once.
 */
const CONNECT_WAIT_MS = 1000;
