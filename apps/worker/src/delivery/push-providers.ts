import type { Logger } from '@herald/runtime';
import type { PushSignal } from '../jobs.js';
import { retryAfterMs } from './push/retry-after.js';

export type MobilePlatform = 'ios' | 'android';

/** A signal the delivery hands to a provider: only devices with a push token get one. */
export type TokenSignal = PushSignal & { pushToken: string };

/** What became of one signal. */
export type PushOutcome =
  | { status: 'sent' }
  /** The provider says the token will never work again: it is dropped from the device and not retried. */
  | { status: 'dead_token'; reason: string }
  /** Not delivered this time (throttled, provider error, timeout): retried, not before `retryAfterMs` when given. */
  | { status: 'retry'; reason: string; retryAfterMs?: number | undefined };

/**
 * Sends "something changed, pull" signals to mobile devices (APNs, FCM, a webhook, the log).
 * `send` answers one outcome per signal, in order; the delivery retries the `retry` ones with
 * backoff (per device: a device whose signal went out is not signalled again) and finally keeps
 * the job as failed (the dead letters of delivery). A throw counts as `retry` for every signal.
 */
export interface PushProvider {
  readonly name: string;
  send(platform: MobilePlatform, signals: readonly TokenSignal[]): Promise<PushOutcome[]>;
  /** Closes what the provider holds open (an HTTP/2 session); called once when the worker stops. */
  close?(): Promise<void>;
}

/** The provider of each mobile platform. */
export type PushProviders = Record<MobilePlatform, PushProvider>;

/** Logs each signal: for development, and for setups where no provider is wired yet. */
export class LogPushProvider implements PushProvider {
  readonly name = 'log';
  constructor(private readonly logger: Logger) {}

  async send(platform: MobilePlatform, signals: readonly TokenSignal[]): Promise<PushOutcome[]> {
    for (const signal of signals) {
      this.logger.info({ platform, accountId: signal.accountId, deviceId: signal.deviceId, cursor: signal.cursor, eventIds: signal.eventIds }, 'push signal');
    }
    return signals.map(() => ({ status: 'sent' }));
  }
}

export interface WebhookPushProviderOptions {
  url: string;
  timeoutMs: number;
}

/**
 * POSTs `{ platform, signals }` as JSON to a URL: a 2xx in time delivers them all; anything else
 * retries them all (honouring the answer's Retry-After). The receiver relays them.
 */
export class WebhookPushProvider implements PushProvider {
  readonly name = 'webhook';
  constructor(private readonly options: WebhookPushProviderOptions) {}

  async send(platform: MobilePlatform, signals: readonly TokenSignal[]): Promise<PushOutcome[]> {
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ platform, signals }),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    await response.body?.cancel();
    const outcome: PushOutcome = response.ok
      ? { status: 'sent' }
      : { status: 'retry', reason: `push webhook answered ${response.status}`, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
    return signals.map(() => outcome);
  }
}
