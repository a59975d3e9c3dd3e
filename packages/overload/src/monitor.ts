import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Priority } from '@herald/contracts';
import type { Logger, Registry } from '@herald/runtime';
import { closeRedis } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import { OverloadBoard } from './board.js';
import type { IngestReport } from './board.js';
import { OverloadController } from './controller.js';
import type { OverloadState, OverloadThresholds } from './controller.js';
import { IngestOverloadMetrics } from './metrics.js';
import { ShedDecider } from './shedder.js';
import type { ShedDecision } from './shedder.js';
import { NO_SIGNALS, ProcessSignals, StreamAgeReader, worstOf } from './signals.js';
import type { OverloadSignals, SignalSource, StreamAges } from './signals.js';
import { Ticker } from './ticker.js';

/** The settings ingest's monitor needs (the config's `overload` section fits). */
export interface OverloadSettings {
  thresholds: OverloadThresholds;
  releaseRatio: number;
  queueAgeMs: number;
  intervalMs: number;
  maxRetryAfterSeconds: number;
}

export interface OverloadMonitorOptions {
  /** For the board and the stream ages (a pipelining connection suits it). */
  redis: RedisClient;
  keys: KeyBuilder;
  /** Stream partitions per priority, to read their ages. */
  partitions: Record<Priority, number>;
  settings: OverloadSettings;
  /**
   * This process's own signals. Default: the host's CPU, this event loop, and Redis's round
   * trip PINGed on `ping`. Tests pass a source they drive.
   */
  signals?: SignalSource;
  /** A connection of its own for the PING probe of the default source (closed by `stop`). */
  ping?: RedisClient;
  /** Where the metrics go (herald_overload_*, herald_shed_events_total). */
  metrics?: Registry;
  logger: Logger;
  /** This process's field on the board (default: host, pid and a random suffix). */
  instanceId?: string;
  now?: () => number;
}

/**
 * Ingest's side of load shedding: every `intervalMs` it reads the signals (its own, the stream
 * ages, and the workers' reports on the board), updates the controller, publishes the decision
 * on the board for the workers and the dashboard, and answers `decide(priority)` for each event
 * from the latest decision, synchronously (no Redis call on the request path).
 *
 * A tick that cannot read Redis decides on this process's own signals alone and publishes
 * nothing; the workers then stop seeing a fresh level within its ttl and run at full speed.
 */
export class OverloadMonitor {
  private readonly controller: OverloadController;
  private readonly board: OverloadBoard;
  private readonly ages: StreamAgeReader;
  private readonly source: SignalSource;
  private readonly decider: ShedDecider;
  private readonly metrics: IngestOverloadMetrics | undefined;
  private readonly field: string;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly shedTotal: Record<'low' | 'medium', number> = { low: 0, medium: 0 };
  private readonly ticker: Ticker;
  private latestSignals: OverloadSignals = NO_SIGNALS;
  private latestAges: StreamAges = { high: 0, medium: 0, low: 0 };

  constructor(private readonly options: OverloadMonitorOptions) {
    const { settings } = options;
    this.ticker = new Ticker(() => this.runTick(), settings.intervalMs);
    this.controller = new OverloadController({
      thresholds: settings.thresholds,
      releaseRatio: settings.releaseRatio,
      queueAgeMs: settings.queueAgeMs,
      // Two ticks at least between decreases: what a cut changes shows in the next tick's signals.
      cooldownMs: 2 * settings.intervalMs,
    });
    this.board = new OverloadBoard(options.redis, options.keys);
    this.ages = new StreamAgeReader(options.redis, options.keys, options.partitions);
    this.source = options.signals ?? new ProcessSignals({ ...(options.ping === undefined ? {} : { ping: options.ping }), intervalMs: settings.intervalMs });
    this.decider = new ShedDecider(() => this.controller.state.shed, settings.maxRetryAfterSeconds);
    this.metrics = options.metrics === undefined ? undefined : new IngestOverloadMetrics(options.metrics);
    this.field = `ingest:${options.instanceId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`}`;
    // A report counts for 8 ticks (3 s at least): an ingest whose loop stalls a moment under load
    // must not look gone, or the workers would speed up exactly then.
    this.ttlMs = Math.max(3000, 8 * settings.intervalMs);
    this.now = options.now ?? Date.now;
  }

  /** The latest decision. */
  get state(): OverloadState {
    return this.controller.state;
  }

  /** The signals and stream ages the latest decision was made from. */
  get inputs(): { signals: OverloadSignals; queueAgeMs: StreamAges } {
    return { signals: this.latestSignals, queueAgeMs: this.latestAges };
  }

  /** Starts ticking (the first tick at once). */
  start(): this {
    this.ticker.start();
    return this;
  }

  /** Runs one tick now (tests; `start` ticks by itself). */
  tick(): Promise<void> {
    return this.ticker.tick();
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
    this.source.stop?.();
    await this.board.remove(this.field).catch(() => undefined);
    if (this.options.ping !== undefined) await closeRedis(this.options.ping);
  }

  /** Whether to refuse one event of `priority` now; undefined: accept it. Counts what it refuses. */
  decide(priority: Priority): ShedDecision | undefined {
    const decision = this.decider.decide(priority);
    if (decision !== undefined && priority !== 'high') {
      this.shedTotal[priority]++;
      this.metrics?.shedEvents.inc({ priority, stage: 'ingest' });
    }
    return decision;
  }

  private async runTick(): Promise<void> {
    const { logger } = this.options;
    const own = this.source.read();
    const nowMs = this.now();
    let reachable = true;
    let ages: StreamAges = { high: 0, medium: 0, low: 0 };
    let workers: Partial<OverloadSignals>[] = [];
    try {
      const [streamAges, board] = await Promise.all([this.ages.read(), this.board.read(nowMs)]);
      ages = streamAges;
      workers = board.workers.map((report) => report.signals);
      if (board.stale.length > 0) await this.board.remove(...board.stale);
    } catch (error) {
      reachable = false;
      logger.warn({ err: error }, 'load shedding: could not read the stream ages or the board; deciding on local signals');
    }
    const signals = worstOf(own, { highAgeMs: reachable ? ages.high : null }, ...workers);
    const before = this.controller.state;
    const state = this.controller.update({ signals, queueAgeMs: { low: ages.low, medium: ages.medium } }, nowMs);
    this.latestSignals = signals;
    this.latestAges = ages;
    this.metrics?.observe(signals, state, ages);
    if (state.level !== before.level && (state.level === 0 || before.level === 0)) {
      logger[state.level > 0 ? 'warn' : 'info'](
        { pressure: state.pressure, cause: state.cause, signals },
        state.level > 0 ? 'overloaded: yielding low priority first, shedding it if the drain cannot keep up' : 'overload cleared: every priority at full speed',
      );
    }
    if (!reachable) return;
    const report: IngestReport = {
      role: 'ingest',
      at: nowMs,
      ttlMs: this.ttlMs,
      signals,
      pressure: state.pressure,
      condition: state.condition,
      level: state.level,
      yield: { low: state.yield.low, medium: state.yield.medium },
      shed: { low: state.shed.low, medium: state.shed.medium },
      queueAgeMs: { low: ages.low, medium: ages.medium },
      shedTotal: { ...this.shedTotal },
    };
    await this.board.publish(this.field, report).catch((error: unknown) => logger.warn({ err: error }, 'load shedding: could not publish the level'));
  }
}
