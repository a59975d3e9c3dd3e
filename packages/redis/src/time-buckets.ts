/**
 * Numbers time buckets (window-wide) by the Redis server's clock. Scripts that keep
 * per-window sets check the bucket the caller computed against `TIME` and answer
 * `BUCKET <b>` when it differs (at a bucket edge, or with clock skew); this learns the offset
 * so the next call is right first time.
 *
 * The offset is learnt per server (`serverOf(client, key)`: a Cluster's masters need not share
 * a clock), so a host whose clock differs from one master's does not unlearn another's.
 */
export class RedisTimeBuckets {
  private readonly skewMs = new Map<string, number>();

  constructor(readonly windowMs: number) {
    if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
  }

  /** The bucket of now by `server`'s clock as learnt so far ('' for one Redis). */
  current(server = ''): number {
    return Math.floor((Date.now() + (this.skewMs.get(server) ?? 0)) / this.windowMs);
  }

  /**
   * Runs `attempt(bucket)` against `server` (the server of the keys it writes), learning that
   * server's bucket and trying again (twice) on a BUCKET error.
   */
  async run<T>(server: string, attempt: (bucket: number) => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt(this.current(server));
      } catch (error) {
        const bucket = error instanceof Error ? /^BUCKET (-?\d+)/.exec(error.message)?.[1] : undefined;
        if (bucket === undefined || tries >= 2) throw error;
        // Aim at the middle of Redis's bucket, so small drift does not miss again.
        this.skewMs.set(server, Number(bucket) * this.windowMs + this.windowMs / 2 - Date.now());
      }
    }
  }
}
