import type { Priority } from '@herald/contracts';
import { SIGNAL_NAMES } from './signals.js';
import type { OverloadSignals, SignalName } from './signals.js';

/** The priorities Herald may shed, lowest first: the order in which they are shed. */
export const SHED_ORDER = ['low', 'medium'] as const;
export type SheddablePriority = (typeof SHED_ORDER)[number];

/** Per sheddable priority; high priority has no entry because it is never shed. */
export type PerSheddable = Record<SheddablePriority, number>;

export interface OverloadThresholds {
  /** 0..1; 0 leaves the signal out. */
  cpu: number;
  /** ms; 0 leaves the signal out. */
  eventLoopDelayMs: number;
  redisRttMs: number;
  highAgeMs: number;
}

export interface OverloadControllerOptions {
  /** Past any of these (signal ÷ threshold ≥ 1) the host is overloaded. */
  thresholds: OverloadThresholds;
  /** Released when every signal is below this fraction of its threshold; in between, hold. */
  releaseRatio: number;
  /** A yielded priority is shed at the door once its oldest unrouted entry is this old (ms). */
  queueAgeMs: number;
  /** Multiplicative decrease of a share per overloaded step, 0..1 (default 0.75). */
  decrease?: number;
  /** Additive increase of a share per released tick (default 0.05: full recovery in 20 ticks). */
  increase?: number;
  /** Fewest ms between two decreases of the same share (default 500): signals lag what they measure. */
  cooldownMs?: number;
}

/** What the controller reads each tick. */
export interface OverloadReading {
  signals: OverloadSignals;
  /** Age of the oldest unrouted entry of each sheddable priority, ms (0: none waiting). */
  queueAgeMs: PerSheddable;
}

export type OverloadCondition = 'overloaded' | 'hold' | 'clear';

/** The controller's decision of one tick. */
export interface OverloadState {
  /** The worst signal ÷ its threshold: ≥ 1 overloaded, < releaseRatio released. 0 when nothing was measured. */
  pressure: number;
  /** The signal behind `pressure`; null when nothing was measured. */
  cause: SignalName | null;
  condition: OverloadCondition;
  /**
   * How far shedding has gone, 0..2: 0 nothing; 0..1 the low priority's routing and delivery
   * yield; 1..2 the medium priority's as well. `level - 1` and `level` clamped to 0..1 are
   * medium's and low's yield.
   */
  level: number;
  /** How much each priority's router and delivery yield, 0 (full speed) .. 1 (most). High: always 0. */
  yield: Record<Priority, number>;
  /** The fraction of each priority's events ingest refuses (`overloaded`), 0..1. High: always 0. */
  shed: Record<Priority, number>;
}

export const IDLE_STATE: OverloadState = {
  pressure: 0,
  cause: null,
  condition: 'clear',
  level: 0,
  yield: { high: 0, medium: 0, low: 0 },
  shed: { high: 0, medium: 0, low: 0 },
};

/** Below this a share counts as 0: multiplicative decrease alone never reaches it. */
const FLOOR = 0.05;

/**
 * Prioritized load shedding as two AIMD loops with hysteresis (Netflix's Zuul sheds the same
 * way: lowest priority first, progressively, on CPU and latency signals). Pure and clocked by
 * its caller, so tests drive it tick by tick.
 *
 * **Pressure** is the worst signal over its threshold. At ≥ 1 the tick is *overloaded*, below
 * `releaseRatio` it is *clear*, in between it *holds*: nothing moves, so the loops settle inside
 * the band instead of flapping around one threshold.
 *
 * **Loop 1, work (router and delivery yield)**: each sheddable priority has a work share, 1 =
 * full speed. An overloaded tick multiplies the lowest priority's share still above 0 by
 * `decrease` (low first; medium only once low is fully yielded), at most once per `cooldownMs`;
 * a clear tick gives the highest yielded priority back `increase` (medium recovers first).
 * This is the loop that keeps the shared cores below saturation: under a flood most CPU goes
 * to draining the streams, not to accepting events, so the drain is what must slow down, and
 * how far it slows is what the low priority's goodput keeps.
 *
 * **Loop 2, admission (ingest sheds)**: each sheddable priority has an admitted fraction, 1 =
 * everything. It is cut (× `decrease`, per `cooldownMs`) while the priority yields and either
 * its oldest unrouted entry is older than `queueAgeMs` and not getting younger (admissions
 * outrun the yielded drain: accepting more would only make them wait, and a 429 tells the
 * client at once) or the priority yields fully and the host is still overloaded (the cost is
 * at the door itself, e.g. a flood of duplicates). That age grows by 1 − drained/admitted
 * seconds a second, so an old backlog that is getting younger is already draining faster than
 * it fills: cutting more would only empty it and idle the drain. The fraction grows back by
 * `increase` per tick once neither holds (with the same hysteresis), and whenever the priority
 * no longer yields. High priority has no share in either loop: it is never shed nor slowed by
 * this mechanism.
 */
export class OverloadController {
  private readonly decrease: number;
  private readonly increase: number;
  private readonly cooldownMs: number;
  private readonly work: PerSheddable = { low: 1, medium: 1 };
  private readonly admit: PerSheddable = { low: 1, medium: 1 };
  private lastWorkDecrease = Number.NEGATIVE_INFINITY;
  private readonly lastQueueAge: PerSheddable = { low: 0, medium: 0 };
  private readonly lastAdmitDecrease: PerSheddable = { low: Number.NEGATIVE_INFINITY, medium: Number.NEGATIVE_INFINITY };
  private latest: OverloadState = IDLE_STATE;

  constructor(private readonly options: OverloadControllerOptions) {
    for (const name of SIGNAL_NAMES) {
      const threshold = options.thresholds[name];
      if (!(Number.isFinite(threshold) && threshold >= 0)) throw new RangeError(`thresholds.${name} must be 0 (off) or positive`);
    }
    if (!(options.releaseRatio > 0 && options.releaseRatio < 1)) throw new RangeError('releaseRatio must be between 0 and 1');
    if (!(options.queueAgeMs > 0)) throw new RangeError('queueAgeMs must be positive');
    this.decrease = options.decrease ?? 0.75;
    this.increase = options.increase ?? 0.05;
    this.cooldownMs = options.cooldownMs ?? 500;
    if (!(this.decrease > 0 && this.decrease < 1)) throw new RangeError('decrease must be between 0 and 1');
    if (!(this.increase > 0 && this.increase <= 1)) throw new RangeError('increase must be in (0, 1]');
    if (!(this.cooldownMs >= 0)) throw new RangeError('cooldownMs must not be negative');
  }

  /** The decision of the last tick. */
  get state(): OverloadState {
    return this.latest;
  }

  /** Worst signal ÷ threshold, and which signal it is. */
  pressureOf(signals: OverloadSignals): { pressure: number; cause: SignalName | null } {
    let pressure = 0;
    let cause: SignalName | null = null;
    for (const name of SIGNAL_NAMES) {
      const threshold = this.options.thresholds[name];
      const value = signals[name];
      if (threshold === 0 || value === null) continue;
      const ratio = value / threshold;
      if (cause === null || ratio > pressure) {
        pressure = ratio;
        cause = name;
      }
    }
    return { pressure, cause };
  }

  /** One tick: reads the signals, moves the shares, returns the new state. */
  update(reading: OverloadReading, nowMs: number): OverloadState {
    const { releaseRatio, queueAgeMs } = this.options;
    const { pressure, cause } = this.pressureOf(reading.signals);
    const condition: OverloadCondition = pressure >= 1 ? 'overloaded' : pressure < releaseRatio ? 'clear' : 'hold';

    // Loop 1: the drain yields, lowest priority first, and recovers highest first.
    if (condition === 'overloaded' && nowMs - this.lastWorkDecrease >= this.cooldownMs) {
      const priority = SHED_ORDER.find((p) => this.work[p] > 0);
      if (priority !== undefined) {
        this.work[priority] = this.cut(this.work[priority]);
        this.lastWorkDecrease = nowMs;
      }
    } else if (condition === 'clear') {
      const priority = [...SHED_ORDER].reverse().find((p) => this.work[p] < 1);
      if (priority !== undefined) this.work[priority] = Math.min(1, this.work[priority] + this.increase);
    }

    // Loop 2: the door sheds what the yielded drain cannot keep up with.
    for (const priority of SHED_ORDER) {
      const yielded = 1 - this.work[priority];
      const age = reading.queueAgeMs[priority];
      const outrun = age >= queueAgeMs && age >= this.lastQueueAge[priority];
      this.lastQueueAge[priority] = age;
      const engage = yielded > 0 && (outrun || (yielded >= 1 && condition === 'overloaded'));
      const release = yielded === 0 || (age < queueAgeMs * releaseRatio && (yielded < 1 || condition === 'clear'));
      if (engage && nowMs - this.lastAdmitDecrease[priority] >= this.cooldownMs) {
        this.admit[priority] = this.cut(this.admit[priority]);
        this.lastAdmitDecrease[priority] = nowMs;
      } else if (release && !engage) {
        this.admit[priority] = Math.min(1, this.admit[priority] + this.increase);
      }
    }

    const yieldOf = (priority: SheddablePriority) => round(1 - this.work[priority]);
    const shedOf = (priority: SheddablePriority) => round(1 - this.admit[priority]);
    this.latest = {
      pressure,
      cause,
      condition,
      level: round(yieldOf('low') + yieldOf('medium')),
      yield: { high: 0, medium: yieldOf('medium'), low: yieldOf('low') },
      shed: { high: 0, medium: shedOf('medium'), low: shedOf('low') },
    };
    return this.latest;
  }

  private cut(share: number): number {
    const next = share * this.decrease;
    return next < FLOOR ? 0 : next;
  }
}

/** Shares are sums of steps of 0.05 and products of 0.75: round away the floating-point dust. */
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
