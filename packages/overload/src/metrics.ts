import { Counter, Gauge } from '@herald/runtime';
import type { Registry } from '@herald/runtime';
import type { Priority } from '@herald/contracts';
import { SHED_ORDER } from './controller.js';
import type { OverloadState } from './controller.js';
import { SIGNAL_NAMES } from './signals.js';
import type { OverloadSignals } from './signals.js';

/** Prometheus names of the signals (units in the name, as Prometheus wants). */
export const SIGNAL_METRIC_LABELS: Record<keyof OverloadSignals, string> = {
  cpu: 'cpu_busy_ratio',
  eventLoopDelayMs: 'event_loop_delay_seconds',
  redisRttMs: 'redis_rtt_seconds',
  highAgeMs: 'high_unrouted_age_seconds',
};

/** A signal in its metric's unit: milliseconds become seconds. */
function inMetricUnit(name: keyof OverloadSignals, value: number): number {
  return name === 'cpu' ? value : value / 1000;
}

/** Ingest's load-shedding metrics: the inputs, the decision, and what was shed. */
export class IngestOverloadMetrics {
  private readonly signal: Gauge<'signal'>;
  private readonly pressure: Gauge;
  private readonly level: Gauge;
  private readonly shedFraction: Gauge<'priority'>;
  private readonly yieldAsked: Gauge<'priority'>;
  private readonly queueAge: Gauge<'priority'>;
  readonly shedEvents: Counter<'priority' | 'stage'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.signal = new Gauge({
      name: 'herald_overload_signal',
      help: 'The overload signals of the last tick, worst over ingest and the workers: cpu_busy_ratio (host), event_loop_delay_seconds (p99), redis_rtt_seconds (PING p90), high_unrouted_age_seconds',
      labelNames: ['signal'],
      registers,
    });
    this.pressure = new Gauge({
      name: 'herald_overload_pressure',
      help: 'Worst signal divided by its threshold: ≥ 1 overloaded, below the release ratio released',
      registers,
    });
    this.level = new Gauge({
      name: 'herald_overload_level',
      help: 'How far shedding has gone: 0 none, 0..1 low priority yields, 1..2 medium priority as well',
      registers,
    });
    this.shedFraction = new Gauge({
      name: 'herald_overload_shed_ratio',
      help: 'Fraction of the events of a priority that ingest refuses with `overloaded` (high: always 0)',
      labelNames: ['priority'],
      registers,
    });
    this.yieldAsked = new Gauge({
      name: 'herald_overload_yield_ratio',
      help: "How much a priority's routing and delivery yield, 0 (full speed) .. 1 (most), as ingest asks the workers",
      labelNames: ['priority'],
      registers,
    });
    this.queueAge = new Gauge({
      name: 'herald_overload_queue_age_seconds',
      help: "Age of a priority's oldest stream entry no router has read yet",
      labelNames: ['priority'],
      registers,
    });
    this.shedEvents = new Counter({
      name: 'herald_shed_events_total',
      help: 'Events refused with `overloaded`, by priority and stage (ingest: refused at the door, nothing written)',
      labelNames: ['priority', 'stage'],
      registers,
    });
    for (const priority of SHED_ORDER) this.shedEvents.inc({ priority, stage: 'ingest' }, 0);
  }

  observe(signals: OverloadSignals, state: OverloadState, queueAgeMs: Record<Priority, number>): void {
    for (const name of SIGNAL_NAMES) {
      const value = signals[name];
      if (value === null) this.signal.remove({ signal: SIGNAL_METRIC_LABELS[name] });
      else this.signal.set({ signal: SIGNAL_METRIC_LABELS[name] }, inMetricUnit(name, value));
    }
    this.pressure.set(state.pressure);
    this.level.set(state.level);
    for (const priority of ['high', 'medium', 'low'] as const) {
      this.shedFraction.set({ priority }, state.shed[priority]);
      this.yieldAsked.set({ priority }, state.yield[priority]);
      this.queueAge.set({ priority }, queueAgeMs[priority] / 1000);
    }
  }
}

/** A worker's load-shedding metrics: its own signals, the yield it applies, and the time it paused. */
export class WorkerOverloadMetrics {
  private readonly signal: Gauge<'signal'>;
  private readonly yieldApplied: Gauge<'priority'>;
  readonly pausedSeconds: Counter<'priority' | 'stage'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.signal = new Gauge({
      name: 'herald_overload_signal',
      help: "This worker's own overload signals: cpu_busy_ratio (its host), event_loop_delay_seconds (p99)",
      labelNames: ['signal'],
      registers,
    });
    this.yieldApplied = new Gauge({
      name: 'herald_overload_yield_ratio',
      help: "How much this worker's routing and delivery of a priority yield, 0 (full speed) .. 1 (most), following ingest's level",
      labelNames: ['priority'],
      registers,
    });
    this.pausedSeconds = new Counter({
      name: 'herald_overload_paused_seconds_total',
      help: 'Time the routers (between batches) and deliveries (before jobs) of a priority paused to yield, by stage',
      labelNames: ['priority', 'stage'],
      registers,
    });
    for (const priority of SHED_ORDER) for (const stage of ['router', 'delivery']) this.pausedSeconds.inc({ priority, stage }, 0);
  }

  observe(signals: Pick<OverloadSignals, 'cpu' | 'eventLoopDelayMs'>, yields: Record<Priority, number>): void {
    for (const name of ['cpu', 'eventLoopDelayMs'] as const) {
      const value = signals[name];
      if (value === null) this.signal.remove({ signal: SIGNAL_METRIC_LABELS[name] });
      else this.signal.set({ signal: SIGNAL_METRIC_LABELS[name] }, inMetricUnit(name, value));
    }
    for (const priority of ['high', 'medium', 'low'] as const) this.yieldApplied.set({ priority }, yields[priority]);
  }
}
