import type { Logger } from '@herald/observability';
import type { PushSignal } from './jobs.js';

/**
 * Sends "something changed, pull" signals to mobile devices. APNs and FCM fit this interface;
 * Herald ships a webhook provider and a log provider. Throwing fails the delivery job, which
 * BullMQ retries with backoff and finally keeps as failed (the dead letters of delivery).
 */
export interface PushProvider {
  readonly name: string;
  send(platform: 'ios' | 'android', signals: readonly PushSignal[]): Promise<void>;
}

/** Logs each signal: for development, and for setups where no provider is wired yet. */
export class LogPushProvider implements PushProvider {
  readonly name = 'log';
  constructor(private readonly logger: Logger) {}

  async send(platform: 'ios' | 'android', signals: readonly PushSignal[]): Promise<void> {
    for (const signal of signals) {
      this.logger.info({ platform, accountId: signal.accountId, deviceId: signal.deviceId, eventIds: signal.eventIds }, 'push signal');
    }
  }
}

export interface WebhookPushProviderOptions {
  url: string;
  timeoutMs: number;
}

/** POSTs `{ platform, signals }` as JSON to a URL; anything but a 2xx in time is a failure. */
export class WebhookPushProvider implements PushProvider {
  readonly name = 'webhook';
  constructor(private readonly options: WebhookPushProviderOptions) {}

  async send(platform: 'ios' | 'android', signals: readonly PushSignal[]): Promise<void> {
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ platform, signals }),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`push webhook answered ${response.status}`);
  }
}
