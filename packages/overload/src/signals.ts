import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import type { Priority } from '@herald/contracts';
import { RedisScript } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';

/**
 * The overload signals, each read over one tick. Each says, from a different place, whether a
 * high-priority event is being made to wait by work it shares a resource with:
 *
 * - `cpu`: the host's CPU busy fraction. On a shared host every process of the path (ingest,
 *   Redis, the worker, the gateway) waits for a core when both are busy, whatever its priority:
 *   bench/pipeline measured every stage of a high event inflate 4–12× at p99 under a low flood,
 *   including stages with a process of their own. Only this signal keeps headroom: queue delays
 *   alone let a flood run the cores at 100 %.
 * - `eventLoopDelayMs`: the p99 delay of the event loops of ingest and the workers. A high event
 *   shares them with the flood: half of its tail under a flood was waiting in ingest's loop
 *   behind 500-event batches, and in `npm start`'s one worker the high router shares a loop with
 *   the low one.
 * - `redisRttMs`: a PING's round trip on a connection of its own. Every hop of a high event is
 *   one or more Redis round trips, and Redis serves a flood's scripts whole.
 * - `highAgeMs`: how long the oldest high-priority entry no router has read yet has waited: the
 *   high path itself, as it stands, whatever the cause.
 *
 * `null`: not measured this tick (or the source is off).
 */
export interface OverloadSignals {
  cpu: number | null;
  eventLoopDelayMs: number | null;
  redisRttMs: number | null;
  highAgeMs: number | null;
}

export type SignalName = keyof OverloadSignals;
export const SIGNAL_NAMES: readonly SignalName[] = ['cpu', 'eventLoopDelayMs', 'redisRttMs', 'highAgeMs'];

export const NO_SIGNALS: OverloadSignals = { cpu: null, eventLoopDelayMs: null, redisRttMs: null, highAgeMs: null };

/**
 * Where a process reads its own signals each tick: the host's CPU, its event loop, Redis's round
 * trip. Tests pass their own, to drive shedding without loading the machine.
 */
export interface SignalSource {
  read(): Partial<OverloadSignals>;
  stop?(): void;
}

/** The worst of each signal over several readings (this process's and the other processes' reports). */
export function worstOf(...readings: Partial<OverloadSignals>[]): OverloadSignals {
  const worst: OverloadSignals = { ...NO_SIGNALS };
  for (const reading of readings) {
    for (const name of SIGNAL_NAMES) {
      const value = reading[name];
      if (value === null || value === undefined || !Number.isFinite(value)) continue;
      const current = worst[name];
      worst[name] = current === null ? value : Math.max(current, value);
    }
  }
  return worst;
}

/** The host's CPU busy fraction between two readings, from `os.cpus()` (all cores, every process). */
export class HostCpuSampler {
  private last = HostCpuSampler.snapshot();

  private static snapshot(): { idle: number; total: number } {
    let idle = 0;
    let total = 0;
    for (const { times } of cpus()) {
      idle += times.idle;
      total += times.user + times.nice + times.sys + times.idle + times.irq;
    }
    return { idle, total };
  }

  /** 0..1 since the previous read; null when no time passed. */
  read(): number | null {
    const now = HostCpuSampler.snapshot();
    const total = now.total - this.last.total;
    const idle = now.idle - this.last.idle;
    this.last = now;
    return total > 0 ? Math.min(1, Math.max(0, 1 - idle / total)) : null;
  }
}

/** This process's event-loop delay, p99 between two readings (`perf_hooks.monitorEventLoopDelay`). */
export class EventLoopDelaySampler {
  private static readonly RESOLUTION_MS = 10;
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: EventLoopDelaySampler.RESOLUTION_MS });

  constructor() {
    this.histogram.enable();
  }

  /** Milliseconds past the timer's due time; null before the first sample. */
  read(): number | null {
    if (this.histogram.count === 0) return null;
    // The histogram holds whole intervals between its timer's runs: the delay is what exceeds it.
    const p99 = this.histogram.percentile(99) / 1e6 - EventLoopDelaySampler.RESOLUTION_MS;
    this.histogram.reset();
    return Math.max(0, p99);
  }

  stop(): void {
    this.histogram.disable();
  }
}

/**
 * Redis's round trip as a client waiting behind nothing of its own sees it: a PING every
 * `everyMs` on a dedicated connection (so it never queues behind this process's commands),
 * p90 over the PINGs since the last read. A PING still unanswered counts with its age so far,
 * so a Redis that stopped answering reads as slow, not as quiet.
 */
export class RedisRttProbe {
  private samples: number[] = [];
  private inFlightSince: number | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisClient,
    everyMs: number,
  ) {
    this.timer = setInterval(() => this.ping(), Math.max(5, everyMs));
    this.timer.unref();
  }

  private ping(): void {
    if (this.inFlightSince !== undefined || this.redis.status !== 'ready') return;
    const started = performance.now();
    this.inFlightSince = started;
    this.redis.ping().then(
      () => {
        this.samples.push(performance.now() - started);
        this.inFlightSince = undefined;
      },
      () => {
        this.inFlightSince = undefined;
      },
    );
  }

  read(): number | null {
    const samples = this.samples;
    this.samples = [];
    if (this.inFlightSince !== undefined) samples.push(performance.now() - this.inFlightSince);
    if (samples.length === 0) return null;
    samples.sort((a, b) => a - b);
    return samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.9))]!;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The default source of ingest and the workers: host CPU, this process's event loop and (where given) Redis's round trip. */
export class ProcessSignals implements SignalSource {
  private readonly cpu = new HostCpuSampler();
  private readonly loop = new EventLoopDelaySampler();
  private readonly rtt: RedisRttProbe | undefined;

  /** `ping`: a connection of its own for the round-trip probe, PINGed `pingsPerTick` times a tick. */
  constructor(options: { ping?: RedisClient; intervalMs: number; pingsPerTick?: number }) {
    this.rtt = options.ping === undefined ? undefined : new RedisRttProbe(options.ping, options.intervalMs / (options.pingsPerTick ?? 10));
  }

  read(): Partial<OverloadSignals> {
    return { cpu: this.cpu.read(), eventLoopDelayMs: this.loop.read(), ...(this.rtt === undefined ? {} : { redisRttMs: this.rtt.read() }) };
  }

  stop(): void {
    this.loop.stop();
    this.rtt?.stop();
  }
}

const streamAges = RedisScript.fromFile(new URL('../lua/', import.meta.url), 'stream-ages-1');

/** Age of the oldest unread entry of each priority, ms (0: nothing waiting), over its partitions. */
export type StreamAges = Record<Priority, number>;

/** Reads the stream ages with one script call per partition, all in one pipeline round trip. */
export class StreamAgeReader {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyBuilder,
    private readonly partitions: Record<Priority, number>,
  ) {}

  async read(): Promise<StreamAges> {
    const calls: { priority: Priority; reply: Promise<unknown> }[] = [];
    for (const priority of ['high', 'medium', 'low'] as const) {
      for (let partition = 0; partition < this.partitions[priority]; partition++) {
        calls.push({ priority, reply: streamAges.run(this.redis, [this.keys.stream(priority, partition)], [this.keys.routerGroup]) });
      }
    }
    const replies = await Promise.all(calls.map(({ reply }) => reply));
    const ages: StreamAges = { high: 0, medium: 0, low: 0 };
    replies.forEach((reply, i) => {
      const [now, oldest] = reply as [number, number];
      const { priority } = calls[i]!;
      if (oldest >= 0) ages[priority] = Math.max(ages[priority], now - oldest);
    });
    return ages;
  }
}
