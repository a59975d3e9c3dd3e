import { HeraldError } from '@herald/contracts';
import type { Overview } from './overview-schema.js';

/** Something that reads the overview (OverviewReader). */
export interface OverviewReading {
  read(): Promise<Overview>;
}

export interface OverviewSourceOptions {
  /** How long a read is reused (default 1000 ms). */
  maxAgeMs?: number;
  /** A read taking longer fails with 503 rather than leaving the page hanging (default 5000 ms). */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * The overview shared by every viewer and the /metrics scrape: a read in flight is joined,
 * and a result is reused for `maxAgeMs`, so ten open pages polling every 2 s cost Redis about
 * one read a second, not ten. A failed or slow read is `unavailable` (503): Redis is down or
 * drowning, which is what the operator needs to know.
 */
export class OverviewSource {
  private latest: { overview: Overview; readAtMs: number } | undefined;
  private inFlight: Promise<Overview> | undefined;
  private readonly maxAgeMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly reader: OverviewReading,
    options: OverviewSourceOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  current(): Promise<Overview> {
    if (this.latest !== undefined && this.now() - this.latest.readAtMs < this.maxAgeMs) return Promise.resolve(this.latest.overview);
    this.inFlight ??= this.readInTime().then(
      (overview) => {
        this.latest = { overview, readAtMs: this.now() };
        this.inFlight = undefined;
        return overview;
      },
      (error: unknown) => {
        this.inFlight = undefined;
        throw new HeraldError('unavailable', 'The overview could not be read from Redis.', { cause: error });
      },
    );
    return this.inFlight;
  }

  private async readInTime(): Promise<Overview> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`overview read took over ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
