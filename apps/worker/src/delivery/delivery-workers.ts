import { Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import type { Emitter } from '@socket.io/redis-emitter';
import { PLATFORMS, deviceRoom } from '@herald/contracts';
import type { Platform, Priority } from '@herald/contracts';
import type { Logger } from '@herald/observability';
import type { KeyBuilder } from '@herald/redis';
import type { WorkerMetrics } from '../worker-metrics.js';
import { PushDeliveryJobSchema, SocketDeliveryJobSchema } from './jobs.js';
import type { PushProvider } from './push-providers.js';

export interface DeliveryWorkersOptions {
  connection: ConnectionOptions;
  keys: KeyBuilder;
  /** The priorities whose delivery queues this process works. */
  priorities: readonly Priority[];
  emitter: Emitter;
  push: PushProvider;
  concurrency: number;
  metrics: WorkerMetrics;
  logger: Logger;
  now?: () => number;
}

/**
 * The delivery role: one BullMQ worker per (priority, platform) queue, so a failing push
 * provider or a slow platform never holds up another, and a low-priority flood never queues
 * ahead of high-priority deliveries. `web` and `tv` emit each notification to its devices'
 * rooms through the Socket.IO Redis emitter; `ios` and `android` send "pull now" signals
 * through the push provider. A job that throws is retried with exponential backoff and, after
 * its last attempt, kept in the queue's failed set: the delivery dead letters.
 */
export function createDeliveryWorkers(options: DeliveryWorkersOptions): Worker[] {
  const now = options.now ?? Date.now;
  const { metrics, logger } = options;

  const deliverToSockets = async (platform: Platform, job: Job): Promise<void> => {
    const { items } = SocketDeliveryJobSchema.parse(job.data);
    for (const { accountId, deviceIds, notification, acceptedAt } of items) {
      options.emitter.to(deviceIds.map((deviceId) => deviceRoom(accountId, deviceId))).emit('notification', notification);
      metrics.deliveries.inc({ platform, outcome: 'emitted' }, deviceIds.length);
      metrics.deliveryLatency.observe({ priority: notification.priority, platform }, (now() - acceptedAt) / 1000);
    }
  };

  const deliverToPush = async (platform: 'ios' | 'android', job: Job): Promise<void> => {
    const { signals } = PushDeliveryJobSchema.parse(job.data);
    try {
      await options.push.send(platform, signals);
    } catch (error) {
      metrics.deliveries.inc({ platform, outcome: 'failed' }, signals.length);
      throw error;
    }
    metrics.deliveries.inc({ platform, outcome: 'sent' }, signals.length);
    for (const signal of signals) metrics.deliveryLatency.observe({ priority: signal.priority, platform }, (now() - signal.acceptedAt) / 1000);
  };

  return options.priorities.flatMap((priority) => PLATFORMS.map((platform) => {
    const worker = new Worker(
      options.keys.deliveryQueue(platform, priority),
      (job) => (platform === 'web' || platform === 'tv' ? deliverToSockets(platform, job) : deliverToPush(platform, job)),
      {
        connection: options.connection,
        prefix: options.keys.bullPrefix,
        concurrency: options.concurrency,
        // Deliveries take milliseconds: a short lock lets another worker pick up the jobs of
        // a crashed one within seconds instead of BullMQ's default 30 s.
        lockDuration: 10_000,
        stalledInterval: 5_000,
        maxStalledCount: 2,
      },
    );
    worker.on('failed', (job, error) => {
      const final = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
      logger[final ? 'error' : 'warn']({ platform, jobId: job?.id, attempt: job?.attemptsMade, err: error }, final ? 'delivery job failed for good' : 'delivery job failed; will retry');
    });
    worker.on('error', (error) => logger.error({ platform, err: error }, 'delivery worker error'));
    return worker;
  }));
}
