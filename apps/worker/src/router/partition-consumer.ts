import type { Priority } from '@herald/contracts';
import type { Logger } from '@herald/runtime';
import type { YieldGate } from '@herald/overload';
import { RedisScript, callInSlotOf } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { WorkerMetrics } from '../worker-metrics.js';
import type { BatchRouter } from './batch-router.js';
import type { Slots } from './slots.js';
import { decodeEntry } from './stream-entry.js';
import type { RawEntry, StreamEntry } from './stream-entry.js';

export interface PartitionConsumerOptions {
  /** Shared connection for non-blocking commands. */
  redis: RedisClient;
  /** This consumer's own connection: XREADGROUP BLOCK holds it. */
  blocking: RedisClient;
  keys: KeyBuilder;
  priority: Priority;
  partition: number;
  workerId: string;
  batchSize: number;
  /** How long XREADGROUP waits for new entries; also bounds how long stopping takes. */
  blockMs?: number;
  reclaimIdleMs: number;
  maxDeliveries: number;
  router: BatchRouter;
  /** Shared by the partitions of this priority: caps how many route a batch at once. */
  slots: Slots;
  /**
   * Load shedding: while this priority yields, each read waits a pause first and takes fewer
   * entries (and the slots let fewer batches run at once). Absent: never yields.
   */
  yielding?: YieldGate | undefined;
  metrics: WorkerMetrics;
  logger: Logger;
}

const deadLetterScript = RedisScript.fromFile(new URL('../../lua/', import.meta.url), 'dead-letter-3');

/** How many dead letters a partition keeps (oldest trimmed first). */
const DEAD_LETTERS_KEPT = 10_000;

/**
 * Routes one partition while this worker holds its lease: first every entry left pending by
 * earlier holders, then new entries as they come, retrying its own failed batches once they
 * have been idle for `reclaimIdleMs`, and sending entries delivered too often (or undecodable)
 * to the partition's dead letters. Acknowledged entries are trimmed from the stream.
 */
export class PartitionConsumer {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private lastReclaim = 0;
  private lastTrim = 0;

  constructor(private readonly options: PartitionConsumerOptions) {}

  private get stream(): string {
    return this.options.keys.stream(this.options.priority, this.options.partition);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops reading; resolves once the batch in flight is routed (or left pending). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger, priority, partition } = this.options;
    let started = false;
    while (!this.stopping) {
      try {
        if (!started) {
          // First everything earlier holders left pending, whatever its idle time.
          await this.ensureGroup();
          await this.reclaim(0);
          started = true;
        }
        const now = Date.now();
        if (now - this.lastReclaim >= this.options.reclaimIdleMs / 2) await this.reclaim(this.options.reclaimIdleMs);
        if (now - this.lastTrim >= 5_000) await this.trimAcknowledged();
        await this.readNew();
      } catch (error) {
        if (this.stopping) break;
        logger.error({ err: error, priority, partition }, 'partition consumer failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      await callInSlotOf(this.options.redis, this.stream, 'XGROUP', 'CREATE', this.stream, this.options.keys.routerGroup, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
  }

  private async readNew(): Promise<void> {
    const { blocking, keys, workerId, batchSize, blockMs = 1000, yielding, priority } = this.options;
    // Yielding: a pause between batches and smaller batches, so this priority's Redis scripts
    // and event-loop turns come in shorter, sparser chunks that a high-priority batch slips between.
    if (yielding !== undefined) await yielding.pause(priority, 'router');
    if (this.stopping) return;
    const reply = (await blocking.xreadgroup(
      'GROUP',
      keys.routerGroup,
      workerId,
      'COUNT',
      yielding === undefined ? batchSize : yielding.scaled(priority, batchSize),
      'BLOCK',
      blockMs,
      'STREAMS',
      this.stream,
      '>',
    )) as [string, RawEntry[]][] | null;
    const raw = reply?.[0]?.[1] ?? [];
    if (raw.length > 0) await this.routeRaw(raw, new Map());
  }

  /**
   * Takes over entries pending (delivered, not acknowledged) for at least `minIdleMs`, whoever
   * they were delivered to: dead-letters those delivered `maxDeliveries` times, routes the rest.
   */
  private async reclaim(minIdleMs: number): Promise<void> {
    const { redis, keys, workerId, batchSize, maxDeliveries } = this.options;
    this.lastReclaim = Date.now();
    let start = '-';
    for (;;) {
      const pending = (await redis.xpending(this.stream, keys.routerGroup, 'IDLE', minIdleMs, start, '+', batchSize)) as [string, string, number, number][];
      if (pending.length === 0) return;
      const deliveries = new Map(pending.map(([id, , , count]) => [id, count]));
      const exhausted = pending.filter(([, , , count]) => count >= maxDeliveries).map(([id]) => id);
      const retry = pending.filter(([, , , count]) => count < maxDeliveries).map(([id]) => id);
      if (exhausted.length > 0) {
        const claimed = (await redis.xclaim(this.stream, keys.routerGroup, workerId, minIdleMs, ...exhausted)) as RawEntry[];
        for (const entry of claimed) await this.deadLetter(entry, `delivered ${deliveries.get(entry[0])} times without success`);
      }
      if (retry.length > 0) {
        const claimed = (await redis.xclaim(this.stream, keys.routerGroup, workerId, minIdleMs, ...retry)) as RawEntry[];
        if (claimed.length > 0) await this.routeRaw(claimed, deliveries);
      }
      const last = pending[pending.length - 1]![0];
      start = `(${last}`;
      if (pending.length < batchSize) return;
    }
  }

  private async routeRaw(raw: RawEntry[], deliveries: Map<string, number>): Promise<void> {
    const { router, slots, priority, partition, metrics, logger } = this.options;
    const entries: StreamEntry[] = [];
    for (const entry of raw) {
      const decoded = decodeEntry(entry);
      if (decoded === undefined) await this.deadLetter(entry, 'malformed entry: not a JSON array of accepted events');
      else entries.push(decoded);
    }
    try {
      await slots.run(() => router.route(priority, partition, entries));
    } catch (error) {
      // Left pending: retried after reclaimIdleMs, dead-lettered after maxDeliveries.
      metrics.routeFailures.inc({ priority });
      logger.error(
        { err: error, priority, partition, entries: entries.map((e) => e.id), deliveries: entries.map((e) => deliveries.get(e.id) ?? 1) },
        'routing a batch failed; its entries stay pending for retry',
      );
    }
  }

  /** Moves an entry to the dead letters with its reason, acknowledging it and freeing its backlog (once, in one script). */
  private async deadLetter([id, fields]: RawEntry, reason: string): Promise<void> {
    const { redis, keys, priority, partition, metrics, logger } = this.options;
    const countIndex = fields.indexOf('n');
    const events = countIndex >= 0 && countIndex % 2 === 0 ? Number(fields[countIndex + 1]) || 0 : 0;
    const moved = await deadLetterScript.run(
      redis,
      [this.stream, keys.deadLetters(priority, partition), keys.backlog(priority, partition)],
      [keys.routerGroup, id, DEAD_LETTERS_KEPT, reason, events, ...fields],
    );
    if (moved !== 1) return;
    metrics.deadLettered.inc({ priority, reason: reason.startsWith('malformed') ? 'malformed' : 'max_deliveries' });
    logger.warn({ priority, partition, entry: id, reason }, 'stream entry dead-lettered');
  }

  /** Trims entries every consumer has acknowledged (all before the oldest pending, or read). */
  private async trimAcknowledged(): Promise<void> {
    const { redis, keys } = this.options;
    this.lastTrim = Date.now();
    const [count, oldestPending] = (await redis.xpending(this.stream, keys.routerGroup)) as [number, string | null];
    let minId: string | undefined;
    if (count > 0 && oldestPending !== null) {
      minId = oldestPending;
    } else {
      const groups = (await callInSlotOf(redis, this.stream, 'XINFO', 'GROUPS', this.stream)) as unknown[][];
      const group = groups.find((fields) => fields[fields.indexOf('name') + 1] === keys.routerGroup);
      const lastDelivered = group?.[group.indexOf('last-delivered-id') + 1];
      if (typeof lastDelivered === 'string' && lastDelivered !== '0-0') minId = lastDelivered;
    }
    if (minId !== undefined) await redis.xtrim(this.stream, 'MINID', '~', minId);
  }
}
