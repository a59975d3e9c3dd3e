export interface RateSamplerOptions {
  /** A rate spans at least this much time when samples that old exist (default 1000 ms). */
  minIntervalMs?: number;
  /** Samples older than this are dropped (default 60 s). */
  maxAgeMs?: number;
}

/** Counter deltas between the current sample and an earlier one. */
export interface SampleDeltas {
  /** Time between the two samples. */
  seconds: number;
  /**
   * How much a counter grew; a counter that shrank (its key was deleted, or jobs were cleaned)
   * counts as 0 rather than negative. Undefined when the earlier sample did not have it.
   */
  delta(name: string): number | undefined;
}

interface Sample {
  atMs: number;
  counters: ReadonlyMap<string, number>;
}

/** Most samples kept however often the overview is read. */
const MAX_SAMPLES = 64;

/**
 * Turns counters read at successive moments into rates. Redis holds only the running totals
 * (events accepted and routed per partition, jobs in the completed and failed sets), so a rate
 * needs two readings: each reading is compared with the newest earlier one at least
 * `minIntervalMs` old (or the oldest there is), so several viewers polling at once still get
 * rates over a sensible window. Times come from Redis's clock, not this process's.
 */
export class RateSampler {
  private readonly minIntervalMs: number;
  private readonly maxAgeMs: number;
  private samples: Sample[] = [];

  constructor(options: RateSamplerOptions = {}) {
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    if (!(this.minIntervalMs >= 0)) throw new RangeError('minIntervalMs must be 0 or more');
    if (!(this.maxAgeMs > this.minIntervalMs)) throw new RangeError('maxAgeMs must be more than minIntervalMs');
  }

  /** Records a reading; returns the deltas since the baseline sample, or undefined for the first reading. */
  observe(atMs: number, counters: ReadonlyMap<string, number>): SampleDeltas | undefined {
    const earlier = this.samples.filter((sample) => sample.atMs < atMs);
    const baseline = earlier.findLast((sample) => sample.atMs <= atMs - this.minIntervalMs) ?? earlier[0];
    this.samples.push({ atMs, counters });
    this.samples = this.samples.filter((sample) => sample.atMs >= atMs - this.maxAgeMs).slice(-MAX_SAMPLES);
    if (baseline === undefined) return undefined;
    return {
      seconds: (atMs - baseline.atMs) / 1000,
      delta: (name) => {
        const before = baseline.counters.get(name);
        const now = counters.get(name);
        return before === undefined || now === undefined ? undefined : Math.max(0, now - before);
      },
    };
  }
}
