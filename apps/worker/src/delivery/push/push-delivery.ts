import type { Job } from 'bullmq';
import type { Logger } from '@herald/observability';
import type { WorkerMetrics } from '../../worker-metrics.js';
import { PUSH_BACKOFF, PushDeliveryJobSchema } from '../jobs.js';
import type { PushDeliveryJob, PushSignal } from '../jobs.js';
import type { MobilePlatform, PushOutcome, PushProviders, TokenSignal } from '../push-providers.js';

/** Longest Retry-After honoured: past it a job waits this long (a provider asking for hours is down). */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Thrown by a push job some of whose devices are still owed a signal: BullMQ retries it. */
export class PushRetryError extends Error {
  override readonly name = 'PushRetryError';
  constructor(
    message: string,
    /** The longest Retry-After the provider gave for those devices. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/**
 * The backoff strategy of the push delivery workers, for jobs with `PUSH_BACKOFF`: exponential
 * from its delay, but never sooner than the provider's Retry-After (at most 15 min).
 */
export function pushBackoffStrategy(attemptsMade: number, type?: string, error?: Error): number {
  if (type !== PUSH_BACKOFF.type) throw new Error(`unknown backoff type ${type ?? '(none)'}`);
  const exponential = Math.round(PUSH_BACKOFF.delay * 2 ** Math.max(0, attemptsMade - 1));
  const asked = error instanceof PushRetryError ? Math.min(error.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS) : 0;
  return Math.max(exponential, asked);
}

/** Where dead push tokens are dropped: the device registry. */
export interface PushTokenRegistry {
  dropPushToken(accountId: string, deviceId: string, pushToken: string): Promise<boolean>;
}

export interface PushDeliveryOptions {
  providers: PushProviders;
  registry: PushTokenRegistry;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Records the job's pushes in its events' traces (best effort). */
  trace: (data: PushDeliveryJob, platform: MobilePlatform) => Promise<void>;
  now: () => number;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The `ios`/`android` delivery of one job: each device with a push token gets its signal through
 * the platform's provider; a device without one gets nothing (it pulls). A token the provider
 * reports dead is dropped from the device at once and not retried. Devices the provider could
 * not reach this time (429, 5xx, timeouts) make the job throw a PushRetryError after it has
 * recorded, in the job, which devices are done: BullMQ retries the job after the backoff, and
 * the retry signals only those devices. Past its attempts the job stays failed, as every
 * delivery does.
 */
export function createPushDelivery(options: PushDeliveryOptions): (platform: MobilePlatform, job: Job) => Promise<void> {
  const { providers, registry, metrics, logger, now } = options;

  const dropToken = async (platform: MobilePlatform, signal: TokenSignal, reason: string): Promise<PushOutcome> => {
    metrics.pushDeadTokens.inc({ platform, provider: providers[platform].name });
    try {
      const dropped = await registry.dropPushToken(signal.accountId, signal.deviceId, signal.pushToken);
      logger.info({ platform, accountId: signal.accountId, deviceId: signal.deviceId, reason, dropped }, dropped ? 'dead push token dropped' : 'dead push token already replaced or gone');
      return { status: 'dead_token', reason };
    } catch (error) {
      // Not dropped: the retry asks the provider again, which reports it dead again.
      return { status: 'retry', reason: `could not drop the dead push token: ${messageOf(error)}` };
    }
  };

  return async (platform, job) => {
    const data = PushDeliveryJobSchema.parse(job.data);
    const provider = providers[platform];
    const done = new Set(data.progress?.done ?? []);
    const owed: { index: number; signal: TokenSignal }[] = [];
    let withoutToken = 0;
    data.signals.forEach((signal: PushSignal, index) => {
      if (done.has(index)) return;
      const { pushToken } = signal;
      if (pushToken === undefined) {
        withoutToken++;
        done.add(index);
      } else {
        owed.push({ index, signal: { ...signal, pushToken } });
      }
    });

    let outcomes: PushOutcome[];
    try {
      outcomes = owed.length === 0 ? [] : await provider.send(platform, owed.map((o) => o.signal));
    } catch (error) {
      outcomes = [];
      logger.warn({ platform, provider: provider.name, err: error }, 'push provider failed');
      const reason = `${provider.name}: ${messageOf(error)}`;
      for (let i = 0; i < owed.length; i++) outcomes.push({ status: 'retry', reason });
    }

    const retries: { reason: string; retryAfterMs?: number | undefined }[] = [];
    let sent = 0;
    let dead = 0;
    const at = now();
    for (const [i, { index, signal }] of owed.entries()) {
      let outcome = outcomes[i] ?? { status: 'retry', reason: `${provider.name} gave no outcome` };
      if (outcome.status === 'dead_token') outcome = await dropToken(platform, signal, outcome.reason);
      if (outcome.status === 'retry') {
        retries.push(outcome);
        continue;
      }
      done.add(index);
      if (outcome.status === 'dead_token') {
        dead++;
        continue;
      }
      sent++;
      metrics.deliveryLatency.observe({ priority: signal.priority, platform }, (at - signal.acceptedAt) / 1000);
      if (logger.isLevelEnabled('debug')) {
        for (const eventId of signal.eventIds) logger.debug({ eventId, accountId: signal.accountId, platform, deviceId: signal.deviceId, cursor: signal.cursor }, 'push signal sent');
      }
    }

    if (sent > 0) metrics.deliveries.inc({ platform, outcome: 'sent' }, sent);
    if (dead > 0) metrics.deliveries.inc({ platform, outcome: 'dead_token' }, dead);
    if (withoutToken > 0) metrics.deliveries.inc({ platform, outcome: 'no_token' }, withoutToken);
    if (retries.length > 0) {
      metrics.deliveries.inc({ platform, outcome: 'failed' }, retries.length);
      // Kept before throwing, so the retry skips the devices done now.
      await job.updateData({ ...data, progress: { done: [...done].sort((a, b) => a - b) } } satisfies PushDeliveryJob);
      const reasons = [...new Set(retries.map((r) => r.reason))];
      const retryAfter = retries.reduce<number | undefined>((max, r) => (r.retryAfterMs === undefined ? max : Math.max(max ?? 0, r.retryAfterMs)), undefined);
      throw new PushRetryError(`${retries.length} of ${data.signals.length} push signals not delivered (${reasons.slice(0, 3).join('; ')}); retrying them`, retryAfter);
    }
    await options.trace(data, platform);
  };
}
