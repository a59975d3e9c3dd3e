import { ConfigError } from '@herald/config';
import type { HeraldConfig } from '@herald/config';

/** What the demo server needs to know: where Herald is, and the service key it uses there. */
export interface DemoOptions {
  /** Ingest's base URL, e.g. `http://127.0.0.1:3100`: devices are registered and sample events sent there. */
  ingestUrl: string;
  /** The gateway's base URL as the browser reaches it, e.g. `http://localhost:3200`: the page's devices connect and pull there. */
  gatewayUrl: string;
  /** A service key ingest accepts. */
  serviceKey: string;
  /** How long a call to ingest may take before the demo answers 502. */
  ingestTimeoutMs: number;
}

export type DemoOptionsInput = Omit<DemoOptions, 'ingestTimeoutMs'> & Partial<Pick<DemoOptions, 'ingestTimeoutMs'>>;

export const DEMO_DEFAULTS = { ingestTimeoutMs: 5_000 } as const;

function httpUrl(name: string, value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new RangeError(`demo option ${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/** Merges defaults in one place and refuses nonsense. */
export function resolveDemoOptions(input: DemoOptionsInput): DemoOptions {
  const options: DemoOptions = {
    ingestUrl: httpUrl('ingestUrl', input.ingestUrl),
    gatewayUrl: httpUrl('gatewayUrl', input.gatewayUrl),
    serviceKey: input.serviceKey,
    ingestTimeoutMs: input.ingestTimeoutMs ?? DEMO_DEFAULTS.ingestTimeoutMs,
  };
  if (options.serviceKey.length === 0) throw new RangeError('demo option serviceKey must not be empty');
  if (!Number.isInteger(options.ingestTimeoutMs) || options.ingestTimeoutMs < 1) {
    throw new RangeError(`demo option ingestTimeoutMs must be a positive integer, got ${options.ingestTimeoutMs}`);
  }
  return options;
}

/**
 * The demo's options from the config, or a ConfigError saying why the demo must not run: it
 * registers devices for anyone who opens the page, so never in production, and with real
 * service keys only when asked for (`HERALD_DEMO=true`).
 */
export function demoOptionsFrom(config: HeraldConfig): DemoOptionsInput {
  if (config.production) throw new ConfigError('The demo is a development aid and does not run in production (NODE_ENV=production).');
  const serviceKey = config.serviceKeys[0]?.key;
  if (!config.demo.enabled || serviceKey === undefined) {
    throw new ConfigError(
      'The demo is off: HERALD_DEMO=false, or HERALD_SERVICE_KEYS is set without HERALD_DEMO=true (the demo registers devices for anyone who opens it).',
    );
  }
  return { ingestUrl: config.demo.ingestUrl, gatewayUrl: config.demo.gatewayUrl, serviceKey };
}
