/**
 * Numbers time buckets (window-wide) by the Redis server's clock. Scripts that keep
 * per-window sets check the bucket the caller computed against `TIME` and answer
 * `BUCKET <b>` when it differs (at a bucket edge, or with clock skew); this learns the offset
 * so the next call is right first time.
 */
export class RedisTimeBuckets {
  private skewMs = 0;

  constructor(readonly windowMs: number) {
    if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
  }

  current(): number {
    return Math.floor((Date.now() + this.skewMs) / this.windowMs);
  }

  /** Runs `attempt(bucket)`, learning Redis's bucket and trying again (twice) on a BUCKET error. */
  async run<T>(attempt: (bucket: number) => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt(this.current());
      } catch (error) {
        const bucket = error instanceof Error ? /^BUCKET (-?\d+)/.exec(error.message)?.[1] : undefined;
        if (bucket === undefined || tries >= 2) throw error;
        // Aim at the middle of Redis's bucket, so small drift does not miss again.
        this.skewMs = Number(bucket) * this.windowMs + this.windowMs / 2 - Date.now();
      }
    }
  }
}
