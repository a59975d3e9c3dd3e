import { readFileSync } from 'node:fs';
import { ConfigError } from '@herald/config';
import type { PushConfig, PushProviderConfig } from '@herald/config';
import type { Logger } from '@herald/runtime';
import { LogPushProvider, WebhookPushProvider } from '../push-providers.js';
import type { MobilePlatform, PushProvider, PushProviders } from '../push-providers.js';
import { ApnsProvider, apnsSigningKey } from './apns.js';
import { FcmProvider, ServiceAccountSchema, serviceAccountKey } from './fcm.js';
import type { ServiceAccount } from './fcm.js';
import { jsonOrUndefined } from './json.js';

export interface CreatePushProvidersOptions {
  logger: Logger;
  /** Certificates the APNs provider trusts besides the system's (a local stand-in in tests). */
  apnsCa?: string | undefined;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function readKeyFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${variable}: cannot read ${path} (${messageOf(error)}).`);
  }
}

/** The APNs key file: an EC P-256 private key in PKCS#8 PEM (the `.p8` Apple gives once). */
function readApnsKey(path: string) {
  const text = readKeyFile('HERALD_APNS_KEY_FILE', path);
  try {
    return apnsSigningKey(text);
  } catch (error) {
    throw new ConfigError(`HERALD_APNS_KEY_FILE: ${path} is not an APNs signing key: ${messageOf(error)}.`);
  }
}

/** The service-account key file: Google's JSON, checked for what FCM needs. */
function readServiceAccount(path: string): ServiceAccount {
  const parsed = ServiceAccountSchema.safeParse(jsonOrUndefined(readKeyFile('HERALD_FCM_SERVICE_ACCOUNT_FILE', path)));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`);
    throw new ConfigError(`HERALD_FCM_SERVICE_ACCOUNT_FILE: ${path} is not a service-account key file (${problems.join('; ')}).`);
  }
  try {
    serviceAccountKey(parsed.data);
  } catch (error) {
    throw new ConfigError(`HERALD_FCM_SERVICE_ACCOUNT_FILE: the private_key of ${path} is unusable: ${messageOf(error)}.`);
  }
  return parsed.data;
}

function createProvider(settings: PushProviderConfig, config: PushConfig, platform: MobilePlatform, options: CreatePushProvidersOptions): PushProvider {
  const { timeoutMs, concurrency } = config;
  const logger = options.logger.child({ platform, provider: settings.provider });
  switch (settings.provider) {
    case 'log':
      return new LogPushProvider(logger);
    case 'webhook':
      return new WebhookPushProvider({ url: settings.url, timeoutMs: settings.timeoutMs });
    case 'apns':
      return new ApnsProvider({
        key: readApnsKey(settings.keyFile),
        keyId: settings.keyId,
        teamId: settings.teamId,
        topic: settings.topic,
        url: settings.url,
        timeoutMs,
        concurrency,
        ca: options.apnsCa,
        logger,
      });
    case 'fcm':
      return new FcmProvider({ serviceAccount: readServiceAccount(settings.serviceAccountFile), url: settings.url, timeoutMs, concurrency, logger });
  }
}

/**
 * Each mobile platform's push provider, as configured: one instance per platform, so each has
 * its own bound on requests in flight and a slow provider of one never holds up the other.
 * Key files are read and checked here, at start-up: a bad one stops the worker, naming it.
 */
export function createPushProviders(config: PushConfig, options: CreatePushProvidersOptions): PushProviders {
  return {
    ios: createProvider(config.ios, config, 'ios', options),
    android: createProvider(config.android, config, 'android', options),
  };
}
