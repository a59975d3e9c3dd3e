import { MetricsTime, Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import { PLATFORMS } from '@herald/contracts';
import type { Platform, Priority } from '@herald/contracts';
import type { LiveStream } from '@herald/live';
import type { Logger } from '@herald/runtime';
import type { YieldGate } from '@herald/overload';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { TraceRecorder } from '@herald/trace';
import type { WorkerMetrics } from '../worker-metrics.js';
import { PushDeliveryJobSchema, SocketDeliveryJobSchema } from '../jobs.js';
import { createPushDelivery, pushBackoffStrategy } from './push/push-delivery.js';
import type { PushCoalescing, PushTokenRegistry } from './push/push-delivery.js';
import type { PushProviders } from './push-providers.js';

export interface DeliveryWorkersOptions {
  connection: ConnectionOptions;
  keys: KeyBuilder;
  /** The priorities whose delivery queues this process works. */
  priorities: readonly Priority[];
  /** Appends `web`/`tv` jobs' live messages to the live streams. */
  redis: RedisClient;
  /** The live transport to the gateways. */
  live: LiveStream;
  /** The push provider of each mobile platform. */
  push: PushProviders;
  /** Where the push delivery drops the tokens a provider reports dead. */
  registry: PushTokenRegistry;
  /** One push signal per device per window; absent: every signal at once. */
  pushCoalescing?: PushCoalescing | undefined;
  concurrency: number;
  /**
   * Load shedding: a yielding priority's jobs wait a pause before they run, and its workers' concurrency
   * is lowered (`yieldConcurrency`). Absent: never yields.
   */
  yielding?: YieldGate | undefined;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Records each push (and each delivery that failed for good) in the events' traces. */
  traces: TraceRecorder;
  now?: () => number;
}

/** The event ids of a job's data, whatever its platform (for failure traces and logs). */
function eventIdsOf(data: unknown): string[] {
  const socket = SocketDeliveryJobSchema.safeParse(data);
  if (socket.success) return socket.data.items.map((item) => item.eventId);
  const push = PushDeliveryJobSchema.safeParse(data);
  return push.success ? [...new Set(push.data.signals.flatMap((signal) => signal.eventIds))] : [];
}

/**
 * The delivery role: one BullMQ worker per (priority, platform) queue, so a failing push
 * provider or a slow platform never holds up another, and a low-priority flood never queues
 * ahead of high-priority deliveries. `web` and `tv` append their live messages to their
 * partition's live stream, which every gateway node reads and hands to the devices' sockets it
 * holds (the gateways record what they send in the events' traces); `ios` and `android` send "pull now" signals
 * through the push provider. A job that throws is retried with exponential backoff and, after
 * its last attempt, kept in the queue's failed set: the delivery dead letters.
 */
export function createDeliveryWorkers(options: DeliveryWorkersOptions): Worker[] {
  const now = options.now ?? Date.now;
  const { metrics, logger, traces } = options;
  const debug = () => logger.isLevelEnabled('debug');

  // A trace write that fails must not fail (and so repeat) a delivery that was made.
  const tracePush = (data: { traceKey?: string | undefined; batch?: string | undefined }, platform: Platform) => {
    if (data.traceKey === undefined || data.batch === undefined) return Promise.resolve();
    return traces
      .recordPushes(data.traceKey, platform, data.batch, now())
      .catch((error: unknown) => logger.warn({ err: error, platform }, 'could not trace deliveries'));
  };

  const deliverToSockets = async (platform: Platform, job: Job): Promise<void> => {
    const parsed = SocketDeliveryJobSchema.safeParse(job.data);
    if (!parsed.success) throw new Error(`job ${job.id} is not a ${platform} delivery job`);
    const { priority, partition, staged, items } = parsed.data;
    // A job run again (its worker died before completing it) finds its messages moved already.
    await options.live.appendStaged(options.redis, priority, partition, staged);
    const at = now();
    let pushes = 0;
    // The labelled child once per job, not a label look-up per notification.
    const latency = metrics.deliveryLatency.labels({ priority, platform });
    for (const { eventId, accountId, deviceIds, acceptedAt } of items) {
      pushes += deviceIds.length;
      latency.observe((at - acceptedAt) / 1000);
      if (debug()) logger.debug({ eventId, accountId, platform, deviceIds }, 'notification sent to the live stream');
    }
    metrics.deliveries.inc({ platform, outcome: 'emitted' }, pushes);
  };

  const deliverToPush = createPushDelivery({
    providers: options.push,
    registry: options.registry,
    coalescing: options.pushCoalescing,
    metrics,
    logger,
    trace: tracePush,
    now,
  });

  const { yielding } = options;
  const deliver = (platform: Platform, job: Job) => (platform === 'web' || platform === 'tv' ? deliverToSockets(platform, job) : deliverToPush(platform, job));

  return options.priorities.flatMap((priority) =>
    PLATFORMS.map((platform) => {
      const worker = new Worker(
        options.keys.deliveryQueue(platform, priority),
        yielding === undefined || priority === 'high'
          ? (job) => deliver(platform, job)
          : async (job) => {
              await yielding.pause(priority, 'delivery');
              return deliver(platform, job);
            },
        {
          connection: options.connection,
          prefix: options.keys.queuePrefix(platform, priority),
          concurrency: options.concurrency,
          // Deliveries take milliseconds: a short lock lets another worker pick up the jobs of
          // a crashed one within seconds instead of BullMQ's default 30 s.
          lockDuration: 10_000,
          stalledInterval: 5_000,
          maxStalledCount: 2,
          // BullMQ's running completed/failed totals (per minute, a week): the dashboard's failure
          // rate needs counts that jobs leaving the completed and failed sets do not shrink.
          metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
          // Push jobs back off no sooner than the provider's Retry-After (their PUSH_BACKOFF type).
          ...(platform === 'ios' || platform === 'android' ? { settings: { backoffStrategy: pushBackoffStrategy } } : {}),
        },
      );
      worker.on('failed', (job, error) => {
        const final = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
        const eventIds = job === undefined ? [] : eventIdsOf(job.data);
        logger[final ? 'error' : 'warn'](
          { platform, jobId: job?.id, attempt: job?.attemptsMade, eventIds, err: error },
          final ? 'delivery job failed for good' : 'delivery job failed; will retry',
        );
        const { traceKey, batch } = (job?.data ?? {}) as { traceKey?: unknown; batch?: unknown };
        if (final && typeof traceKey === 'string' && typeof batch === 'string') {
          traces
            .recordFailure(traceKey, platform, batch, error.message, now())
            .catch((traceError: unknown) => logger.warn({ err: traceError, platform }, 'could not trace a failed delivery'));
        }
      });
      worker.on('error', (error) => logger.error({ platform, err: error }, 'delivery worker error'));
      return worker;
    }),
  );
}

/**
 * Sets each delivery worker's concurrency to what its priority's yield allows (at least 1);
 * call it whenever the yield changes. BullMQ applies it to the jobs it fetches next.
 */
export function yieldConcurrency(workers: readonly { priority: Priority; worker: Worker }[], yielding: YieldGate, base: number): void {
  for (const { priority, worker } of workers) {
    const concurrency = yielding.scaled(priority, base);
    if (worker.concurrency !== concurrency) worker.concurrency = concurrency;
  }
}
