import { z } from 'zod';
import { parseJson } from '@herald/contracts';
import type { KeyBuilder, RedisClient } from '@herald/redis';

const share = z.number().min(0).max(1);
const signal = z.number().nonnegative().nullable();
const sheddable = <T extends z.ZodType>(schema: T) => z.object({ low: schema, medium: schema });
const count = z.number().int().nonnegative();

const SignalsSchema = z.object({ cpu: signal, eventLoopDelayMs: signal, redisRttMs: signal, highAgeMs: signal });

/** What an ingest publishes each tick: its decision and what it was made from. */
export const IngestReportSchema = z.object({
  role: z.literal('ingest'),
  /** When it was written (epoch ms, the writer's clock) and how long it counts. */
  at: z.number(),
  ttlMs: z.number().positive(),
  /** The signals the decision was made from: the worst over this ingest's and the workers' reports. */
  signals: SignalsSchema,
  pressure: z.number().nonnegative(),
  condition: z.enum(['overloaded', 'hold', 'clear']),
  level: z.number().min(0).max(2),
  /** The yield it asks of the workers' routers and deliveries. */
  yield: sheddable(share),
  /** The fraction of events it refuses at the door. */
  shed: sheddable(share),
  /** Age of each priority's oldest unrouted entry, ms. */
  queueAgeMs: sheddable(z.number().nonnegative()),
  /** Events it has refused (`overloaded`) since it started: a counter, for rates. */
  shedTotal: sheddable(count),
});
export type IngestReport = z.infer<typeof IngestReportSchema>;

/** What a worker publishes each tick: its own signals (its host may not be ingest's) and the yield it applies. */
export const WorkerReportSchema = z.object({
  role: z.literal('worker'),
  at: z.number(),
  ttlMs: z.number().positive(),
  signals: SignalsSchema.pick({ cpu: true, eventLoopDelayMs: true }),
  yield: sheddable(share),
  /** Seconds its routers and deliveries paused to yield since it started, per priority (counters). */
  pausedSeconds: sheddable(z.number().nonnegative()),
});
export type WorkerReport = z.infer<typeof WorkerReportSchema>;

export const OverloadReportSchema = z.discriminatedUnion('role', [IngestReportSchema, WorkerReportSchema]);
export type OverloadReport = z.infer<typeof OverloadReportSchema>;

/** The fresh reports on the board, by field (`ingest:<id>`, `worker:<id>`). */
export interface BoardReading {
  ingests: (IngestReport & { id: string })[];
  workers: (WorkerReport & { id: string })[];
  /** Fields whose report is stale or unreadable (a process gone): safe to delete. */
  stale: string[];
}

/**
 * Reads a board hash (HGETALL) back, checked with zod: a report older than its own ttl is a
 * process that is gone, and counts for nothing.
 */
export function readBoard(raw: Record<string, string>, nowMs: number): BoardReading {
  const reading: BoardReading = { ingests: [], workers: [], stale: [] };
  for (const [field, json] of Object.entries(raw)) {
    const parsed = OverloadReportSchema.safeParse(parseJson(json));
    const id = field.slice(field.indexOf(':') + 1);
    if (!parsed.success || nowMs - parsed.data.at > parsed.data.ttlMs) {
      reading.stale.push(field);
    } else if (parsed.data.role === 'ingest') {
      reading.ingests.push({ ...parsed.data, id });
    } else {
      reading.workers.push({ ...parsed.data, id });
    }
  }
  reading.ingests.sort((a, b) => a.id.localeCompare(b.id));
  reading.workers.sort((a, b) => a.id.localeCompare(b.id));
  return reading;
}

/**
 * The shared state of load shedding in Redis: one hash (`keys.overload`), one field per process.
 * Ingest publishes its level there and the workers follow it; workers publish their own signals
 * there and ingest folds them in; the dashboard shows it all. The key expires when no process
 * refreshes it; stale fields are deleted by the ingests that read them.
 */
export class OverloadBoard {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyBuilder,
  ) {}

  async publish(field: string, report: OverloadReport): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.overload, field, JSON.stringify(report))
      .pexpire(this.keys.overload, Math.ceil(report.ttlMs * 4))
      .exec();
  }

  async read(nowMs = Date.now()): Promise<BoardReading> {
    return readBoard(await this.redis.hgetall(this.keys.overload), nowMs);
  }

  async remove(...fields: string[]): Promise<void> {
    if (fields.length > 0) await this.redis.hdel(this.keys.overload, ...fields);
  }
}
