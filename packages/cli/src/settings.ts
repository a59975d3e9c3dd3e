import { z } from 'zod';
import { parseOptions } from './cli-error.js';

/** Where the CLI talks to and as whom: `--ingest`, `--gateway`, `--key`, or their variables, or the development defaults. */
export interface Settings {
  ingestUrl: string;
  gatewayUrl: string;
  serviceKey: string;
}

export const DEFAULTS = {
  ingest: 'http://localhost:3100',
  gateway: 'http://localhost:3200',
  key: 'dev-service-key',
} as const;

/** The variables the CLI reads (once, in `main.ts`). */
export const EnvSchema = z.object({
  HERALD_INGEST_URL: z.string().min(1).optional(),
  HERALD_GATEWAY_URL: z.string().min(1).optional(),
  HERALD_SERVICE_KEY: z.string().min(1).optional(),
});
export type CliEnv = z.infer<typeof EnvSchema>;

const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const GlobalOptionsSchema = z.object({ ingest: HttpUrl, gateway: HttpUrl, key: z.string().min(1, 'must not be empty') });

/** Command line first, then the environment, then the defaults. */
export function resolveSettings(options: Record<string, unknown>, env: CliEnv): Settings {
  const { ingest, gateway, key } = parseOptions(GlobalOptionsSchema, {
    ingest: options['ingest'] ?? env.HERALD_INGEST_URL ?? DEFAULTS.ingest,
    gateway: options['gateway'] ?? env.HERALD_GATEWAY_URL ?? DEFAULTS.gateway,
    key: options['key'] ?? env.HERALD_SERVICE_KEY ?? DEFAULTS.key,
  });
  return { ingestUrl: ingest, gatewayUrl: gateway, serviceKey: key };
}
