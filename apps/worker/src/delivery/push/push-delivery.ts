import type { Job, Queue } from 'bullmq';
import type { Priority } from '@herald/contracts';
import type { Logger } from '@herald/runtime';
import type { WorkerMetrics } from '../../worker-metrics.js';
import { JOB_RETENTION, PUSH_BACKOFF, PushDeliveryJobSchema } from '../../jobs.js';
import type { PushDeliveryJob } from '../../jobs.js';
import type { MobilePlatform, PushOutcome, PushProviders, TokenSignal } from '../push-providers.js';
import type { PushCoalescer } from './coalescer.js';

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
  /** One signal per device per window (`HERALD_PUSH_COALESCE_MS`); absent: every signal goes at once. */
  coalescing?: PushCoalescing | undefined;
  now: () => number;
}

export interface PushCoalescing {
  coalescer: PushCoalescer;
  /** The delivery queue a platform's trailing jobs of a priority go to (their own). */
  queue: (platform: MobilePlatform, priority: Priority) => Queue;
}

/** The device a trailing job sends the held signal of. */
type TrailingDevice = NonNullable<PushDeliveryJob['trailing']>;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The `ios`/`android` delivery of one job: each device with a push token gets its signal through
 * the platform's provider; a device without one gets nothing (it pulls). With coalescing, a
 * device signalled less than a window ago has its signal held instead, and sent (the newest
 * held) by the window's trailing job, a job of this queue too (see PushCoalescer). A token the provider
 * reports dead is dropped from the device at once and not retried. Devices the provider could
 * not reach this time (429, 5xx, timeouts) make the job throw a PushRetryError after it has
 * recorded, in the job, which devices are done: BullMQ retries the job after the backoff, and
 * the retry signals only those devices. Past its attempts the job stays failed, as every
 * delivery does.
 */
export function createPushDelivery(options: PushDeliveryOptions): (platform: MobilePlatform, job: Job) => Promise<void> {
  const { providers, registry, metrics, logger, now, coalescing } = options;

  const dropToken = async (platform: MobilePlatform, signal: TokenSignal, reason: string): Promise<PushOutcome> => {
    metrics.pushDeadTokens.inc({ platform, provider: providers[platform].name });
    try {
      const dropped = await registry.dropPushToken(signal.accountId, signal.deviceId, signal.pushToken);
      logger.info(
        { platform, accountId: signal.accountId, deviceId: signal.deviceId, reason, dropped },
        dropped ? 'dead push token dropped' : 'dead push token already replaced or gone',
      );
      return { status: 'dead_token', reason };
    } catch (error) {
      // Not dropped: the retry asks the provider again, which reports it dead again.
      return { status: 'retry', reason: `could not drop the dead push token: ${messageOf(error)}` };
    }
  };

  /** Makes sure a held signal's window has its trailing job (one per window: deduplicated by the window id). */
  const scheduleTrailing = async (platform: MobilePlatform, device: TrailingDevice, windowId: string, delayMs: number, attempts: number, dedupSuffix = '') => {
    if (coalescing === undefined) return;
    const data: PushDeliveryJob = { signals: [], trailing: device };
    await coalescing.queue(platform, device.priority).add(`${platform}-trailing`, data, {
      delay: delayMs,
      deduplication: { id: `push-window:${windowId}${dedupSuffix}` },
      attempts,
      backoff: PUSH_BACKOFF,
      removeOnComplete: JOB_RETENTION.completed,
      removeOnFail: JOB_RETENTION.failed,
    });
  };

  /**
   * A trailing job's first step: take the device's held signal once its window is over. Answers
   * the job's data with that signal to send, or undefined when there is nothing to send now.
   */
  const takeHeld = async (platform: MobilePlatform, job: Job, data: PushDeliveryJob, device: TrailingDevice): Promise<PushDeliveryJob | undefined> => {
    if (coalescing === undefined) return undefined;
    const verdict = await coalescing.coalescer.trailing(device.accountId, device.deviceId);
    if (verdict.verdict === 'none') return undefined;
    if (verdict.verdict === 'wait') {
      // Early (clocks), or a new window opened since: come back when that one ends. A new
      // deduplication id, since this job's own one stands until it completes.
      await scheduleTrailing(platform, device, verdict.windowId, verdict.delayMs, job.opts.attempts ?? 1, `:after:${job.id ?? ''}`);
      return undefined;
    }
    const taken: PushDeliveryJob = { ...data, signals: [verdict.signal], progress: { done: [], cleared: { 0: verdict.signal } } };
    // Kept at once: the held signal is no longer in Redis, so a retry must find it here.
    await job.updateData(taken);
    return taken;
  };

  return async (platform, job) => {
    let data = PushDeliveryJobSchema.parse(job.data);
    if (data.trailing !== undefined && data.signals.length === 0) {
      const taken = await takeHeld(platform, job, data, data.trailing);
      if (taken === undefined) return;
      data = taken;
    }
    const provider = providers[platform];
    const done = new Set(data.progress?.done ?? []);
    const cleared = new Map(Object.entries(data.progress?.cleared ?? {}).map(([index, signal]) => [Number(index), signal]));
    const retries: { reason: string; retryAfterMs?: number | undefined }[] = [];
    let withoutToken = 0;
    let held = 0;

    // The coalescing gate, for the signals with a token that have not passed it yet.
    const gated = data.signals.flatMap((signal, index) => {
      if (done.has(index) || cleared.has(index)) return [];
      if (signal.pushToken === undefined) {
        withoutToken++;
        done.add(index);
        return [];
      }
      if (coalescing === undefined) {
        cleared.set(index, signal);
        return [];
      }
      return [{ index, signal }];
    });
    const coalescer = coalescing?.coalescer;
    if (coalescer !== undefined)
      await Promise.all(
        gated.map(async ({ index, signal }) => {
          try {
            const admission = await coalescer.admit(signal);
            if (admission.verdict === 'send') {
              cleared.set(index, admission.signal);
              return;
            }
            await scheduleTrailing(
              platform,
              { accountId: signal.accountId, deviceId: signal.deviceId, priority: signal.priority },
              admission.windowId,
              admission.delayMs,
              job.opts.attempts ?? 1,
            );
            held++;
            done.add(index);
          } catch (error) {
            // Held or not, the retry asks the gate again; a held signal's trailing job is made then.
            retries.push({ reason: `coalescing: ${messageOf(error)}` });
          }
        }),
      );

    const owed: { index: number; signal: TokenSignal }[] = [];
    for (const [index, signal] of [...cleared].sort(([a], [b]) => a - b)) {
      if (done.has(index)) continue;
      const { pushToken } = signal;
      if (pushToken === undefined) {
        withoutToken++;
        done.add(index);
      } else {
        owed.push({ index, signal: { ...signal, pushToken } });
      }
    }

    let outcomes: PushOutcome[];
    try {
      outcomes =
        owed.length === 0
          ? []
          : await provider.send(
              platform,
              owed.map((o) => o.signal),
            );
    } catch (error) {
      outcomes = [];
      logger.warn({ platform, provider: provider.name, err: error }, 'push provider failed');
      const reason = `${provider.name}: ${messageOf(error)}`;
      for (let i = 0; i < owed.length; i++) outcomes.push({ status: 'retry', reason });
    }

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
        for (const eventId of signal.eventIds)
          logger.debug({ eventId, accountId: signal.accountId, platform, deviceId: signal.deviceId, cursor: signal.cursor }, 'push signal sent');
      }
    }

    if (sent > 0) metrics.deliveries.inc({ platform, outcome: 'sent' }, sent);
    if (dead > 0) metrics.deliveries.inc({ platform, outcome: 'dead_token' }, dead);
    if (withoutToken > 0) metrics.deliveries.inc({ platform, outcome: 'no_token' }, withoutToken);
    if (held > 0) metrics.deliveries.inc({ platform, outcome: 'coalesced' }, held);
    if (retries.length > 0) {
      metrics.deliveries.inc({ platform, outcome: 'failed' }, retries.length);
      // Kept before throwing, so the retry skips the devices done now and sends the cleared ones as they are.
      const stillCleared = Object.fromEntries([...cleared].filter(([index]) => !done.has(index)).map(([index, signal]) => [String(index), signal]));
      await job.updateData({ ...data, progress: { done: [...done].sort((a, b) => a - b), cleared: stillCleared } } satisfies PushDeliveryJob);
      const reasons = [...new Set(retries.map((r) => r.reason))];
      const retryAfter = retries.reduce<number | undefined>((max, r) => (r.retryAfterMs === undefined ? max : Math.max(max ?? 0, r.retryAfterMs)), undefined);
      throw new PushRetryError(
        `${retries.length} of ${data.signals.length} push signals not delivered (${reasons.slice(0, 3).join('; ')}); retrying them`,
        retryAfter,
      );
    }
    await options.trace(data, platform);
  };
}
