import type { Priority } from '@herald/contracts';
import type { Logger, Registry } from '@herald/runtime';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { OverloadBoard } from './board.js';
import type { WorkerReport } from './board.js';
import { SHED_ORDER } from './controller.js';
import type { SheddablePriority } from './controller.js';
import { WorkerOverloadMetrics } from './metrics.js';
import { ProcessSignals } from './signals.js';
import type { SignalSource } from './signals.js';
import { Ticker } from './ticker.js';

export type YieldStage = 'router' | 'delivery';

/**
 * How the router and the delivery of a priority give way while Herald is overloaded: fewer
 * entries per batch and fewer batches or jobs at once (`scaled`), and a pause before each
 * (`pause`). High priority never yields.
 */
export interface YieldGate {
  /** 0 (full speed) .. 1 (yield the most). */
  yieldOf(priority: Priority): number;
  /** `base` (a batch size, a concurrency) shrunk by the yield: `round(base × (1 − yield))`, at least 1. */
  scaled(priority: Priority, base: number): number;
  /** Waits `yield × maxPauseMs` (at once at 0), counting the time paused. */
  pause(priority: Priority, stage: YieldStage): Promise<void>;
}

/** A gate that never yields (shedding off). */
export const NEVER_YIELD: YieldGate = {
  yieldOf: () => 0,
  scaled: (_priority, base) => base,
  pause: () => Promise.resolve(),
};

export interface OverloadFollowerOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  /** This worker's field on the board. */
  workerId: string;
  intervalMs: number;
  /** The pause of a fully yielded priority (ms). */
  maxPauseMs: number;
  /** This worker's own signals, reported for ingest to fold in (default: its host's CPU and its event loop). */
  signals?: SignalSource;
  metrics?: Registry;
  logger: Logger;
  now?: () => number;
}

/**
 * A worker's side of load shedding. Ingest decides the level (it admits the events and reads
 * every signal); a worker follows the highest yield a live ingest publishes on the board, and
 * publishes its own signals there in return: its host may not be ingest's, and in `npm start`'s
 * single worker the high router shares an event loop with the low one. No fresh ingest report
 * (ingest down, or shedding turned off there) means full speed: with no ingest nothing new
 * enters, and draining the backlog is then the best use of the host.
 *
 * The yield changes only on ingest's ticks, whose controller holds it steady inside its
 * hysteresis band, so a worker's pace does not flap between its own reads.
 */
export class OverloadFollower implements YieldGate {
  private yields: Record<SheddablePriority, number> = { low: 0, medium: 0 };
  private readonly pausedSeconds: Record<SheddablePriority, number> = { low: 0, medium: 0 };
  private readonly source: SignalSource;
  private readonly board: OverloadBoard;
  private readonly metrics: WorkerOverloadMetrics | undefined;
  private readonly listeners: ((follower: OverloadFollower) => void)[] = [];
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly ticker: Ticker;

  constructor(private readonly options: OverloadFollowerOptions) {
    if (!(options.maxPauseMs >= 0)) throw new RangeError('maxPauseMs must not be negative');
    this.source = options.signals ?? new ProcessSignals({ intervalMs: options.intervalMs });
    this.board = new OverloadBoard(options.redis, options.keys);
    this.metrics = options.metrics === undefined ? undefined : new WorkerOverloadMetrics(options.metrics);
    this.ttlMs = Math.max(3000, 8 * options.intervalMs);
    this.now = options.now ?? Date.now;
    this.ticker = new Ticker(() => this.runTick(), options.intervalMs);
  }

  private get field(): string {
    return `worker:${this.options.workerId}`;
  }

  yieldOf(priority: Priority): number {
    return priority === 'high' ? 0 : this.yields[priority];
  }

  scaled(priority: Priority, base: number): number {
    return Math.max(1, Math.round(base * (1 - this.yieldOf(priority))));
  }

  async pause(priority: Priority, stage: YieldStage): Promise<void> {
    const ms = this.yieldOf(priority) * this.options.maxPauseMs;
    if (priority === 'high' || ms <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.pausedSeconds[priority] += ms / 1000;
    this.metrics?.pausedSeconds.inc({ priority, stage }, ms / 1000);
  }

  /** Called after each tick that changed a yield (e.g. to set the delivery workers' concurrency). */
  onChange(listener: (follower: OverloadFollower) => void): void {
    this.listeners.push(listener);
  }

  start(): this {
    this.ticker.start();
    return this;
  }

  /** Reads the board and reports once now (tests; `start` ticks by itself). */
  tick(): Promise<void> {
    return this.ticker.tick();
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
    this.source.stop?.();
    await this.board.remove(this.field).catch(() => undefined);
  }

  private async runTick(): Promise<void> {
    const own = this.source.read();
    const nowMs = this.now();
    const next: Record<SheddablePriority, number> = { low: 0, medium: 0 };
    try {
      const board = await this.board.read(nowMs);
      for (const report of board.ingests) for (const priority of SHED_ORDER) next[priority] = Math.max(next[priority], report.yield[priority]);
      const report: WorkerReport = {
        role: 'worker',
        at: nowMs,
        ttlMs: this.ttlMs,
        signals: { cpu: own.cpu ?? null, eventLoopDelayMs: own.eventLoopDelayMs ?? null },
        yield: next,
        pausedSeconds: { ...this.pausedSeconds },
      };
      await this.board.publish(this.field, report);
    } catch (error) {
      // Redis unreachable: routing and delivery stall on it anyway; keep the last yield.
      this.options.logger.warn({ err: error }, 'load shedding: could not read the level; keeping the last one');
      return;
    }
    const changed = SHED_ORDER.some((priority) => next[priority] !== this.yields[priority]);
    this.yields = next;
    this.metrics?.observe({ cpu: own.cpu ?? null, eventLoopDelayMs: own.eventLoopDelayMs ?? null }, { high: 0, ...next });
    if (changed) for (const listener of this.listeners) listener(this);
  }
}
