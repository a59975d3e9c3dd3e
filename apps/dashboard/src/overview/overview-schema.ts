import { z } from 'zod';
import { PlatformSchema, PrioritySchema } from '@herald/contracts';

const count = z.number().int().nonnegative();
/** Events (or jobs) per second over the sample window; null until there are two samples. */
const rate = z.number().nonnegative().nullable();
/** Failed / (completed + failed) jobs over the sample window; null when none finished in it. */
const ratio = z.number().min(0).max(1).nullable();

/** The newest dead letters of a priority, for the overview (not the events they hold). */
export const DeadLetterSummarySchema = z.object({
  partition: count,
  /** Id in the dead-letter stream. */
  id: z.string(),
  /** The stream entry the router gave up on. */
  entry: z.string(),
  reason: z.string(),
  /** Events the entry held; null when the field is missing or unreadable. */
  events: count.nullable(),
  /** When it became a dead letter (from its id). */
  at: z.iso.datetime(),
});
export type DeadLetterSummary = z.infer<typeof DeadLetterSummarySchema>;

/** One priority's streams, summed over its partitions. */
export const PriorityOverviewSchema = z.object({
  priority: PrioritySchema,
  partitions: count,
  /** Entries in its streams (XLEN): an entry holds a batch of events. */
  streamLength: count,
  /** Entries the router's consumer group has not read yet; null when Redis cannot tell. */
  lag: count.nullable(),
  /** Entries read and not acknowledged yet (XPENDING). */
  pending: count,
  /** Age of the oldest pending entry (since it was appended), seconds; null when none is pending. */
  oldestPendingAgeSeconds: z.number().nonnegative().nullable(),
  /** Events appended and not acknowledged: the figure ingest's backlog limit applies to. */
  backlog: count,
  /** Events accepted per second. */
  inPerSecond: rate,
  /** Events the router acknowledged per second. */
  outPerSecond: rate,
  deadLetters: z.object({ count, newest: z.array(DeadLetterSummarySchema) }),
});
export type PriorityOverview = z.infer<typeof PriorityOverviewSchema>;

/** One BullMQ delivery queue (one platform, one priority). */
export const QueueOverviewSchema = z.object({
  name: z.string(),
  platform: PlatformSchema,
  priority: PrioritySchema,
  waiting: count,
  active: count,
  delayed: count,
  /** waiting + active + delayed: jobs not finished. */
  depth: count,
  /** Jobs kept in the completed set (capped by the queue's retention) and the failed set. */
  completed: count,
  failed: count,
  failureRate: ratio,
});
export type QueueOverview = z.infer<typeof QueueOverviewSchema>;

/** A platform's queues over every priority. */
export const PlatformOverviewSchema = z.object({ platform: PlatformSchema, depth: count, failed: count, failureRate: ratio });
export type PlatformOverview = z.infer<typeof PlatformOverviewSchema>;

export const GatewayNodeOverviewSchema = z.object({ nodeId: z.string(), connections: count, devices: count, at: z.iso.datetime() });

const share = z.number().min(0).max(1);
const signal = z.number().nonnegative().nullable();

/** One priority under load shedding. */
export const ShedPriorityOverviewSchema = z.object({
  priority: PrioritySchema,
  /** Fraction of its events ingest refuses with `overloaded` (the most over live ingests); high: 0. */
  shed: share,
  /** How much its routing and delivery yield, 0 full speed .. 1 most; high: 0. */
  yield: share,
  /** Age of its oldest stream entry no router has read yet, seconds, as ingest last read it; null: unknown. */
  queueAgeSeconds: z.number().nonnegative().nullable(),
  /** Events refused per second over the rate window; null until there are two samples. */
  shedPerSecond: rate,
});

/** A process that reports to the load-shedding board. */
export const OverloadReporterSchema = z.object({
  id: z.string(),
  role: z.enum(['ingest', 'worker']),
  /** When it last reported (its own clock). */
  at: z.iso.datetime(),
  cpu: signal,
  eventLoopDelayMs: signal,
});

/**
 * Load shedding as the live ingests decide it (`@herald/overload`'s board): the level, the
 * signals it came from, and what each priority is shed and yields.
 */
export const OverloadOverviewSchema = z.object({
  /** A live ingest publishes a level: shedding is on and running. */
  active: z.boolean(),
  /** 0 nothing; 0..1 low priority yields; 1..2 medium as well (the highest over live ingests). */
  level: z.number().min(0).max(2),
  /** Worst signal ÷ its threshold (≥ 1 overloaded); null when no ingest reports. */
  pressure: z.number().nonnegative().nullable(),
  condition: z.enum(['overloaded', 'hold', 'clear']).nullable(),
  /** The signals the decision came from (worst over ingests and workers): host CPU busy 0..1, ms for the rest. */
  signals: z.object({ cpu: signal, eventLoopDelayMs: signal, redisRttMs: signal, highAgeMs: signal }),
  priorities: z.array(ShedPriorityOverviewSchema),
  reporters: z.array(OverloadReporterSchema),
});
export type OverloadOverview = z.infer<typeof OverloadOverviewSchema>;

/** `GET /admin/api/overview`: everything the overview page shows. */
export const OverviewSchema = z.object({
  /** Redis's clock when the figures were read. */
  at: z.iso.datetime(),
  /** Seconds between the two samples the rates come from; null until there are two. */
  rateWindowSeconds: z.number().positive().nullable(),
  /** Whether the queue board refuses changes. */
  readOnly: z.boolean(),
  priorities: z.array(PriorityOverviewSchema),
  queues: z.array(QueueOverviewSchema),
  platforms: z.array(PlatformOverviewSchema),
  gateway: z.object({
    /** Distinct devices connected, summed over live gateway nodes (a device on two nodes counts twice). */
    devicesOnline: count,
    connections: count,
    /** Nodes whose last heartbeat is recent; older entries are ignored. */
    nodes: z.array(GatewayNodeOverviewSchema),
  }),
  overload: OverloadOverviewSchema,
});
export type Overview = z.infer<typeof OverviewSchema>;
