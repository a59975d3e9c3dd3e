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

/** The variables the CLI reads (once, in `run`). */
export const EnvSchema = z.object({
  HERALD_INGEST_URL: z.string().min(1).optional(),
  HERALD_GATEWAY_URL: z.string().min(1).optional(),
  HERALD_SERVICE_KEY: z.string().min(1).optional(),
  /** The ports `npm start` put ingest and the gateway on: the local defaults follow them. */
  INGEST_PORT: z.string().min(1).optional(),
  GATEWAY_PORT: z.string().min(1).optional(),
});
export type CliEnv = z.infer<typeof EnvSchema>;

/** The process's environment, as `main.ts` passes it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The variables the CLI reads from the environment; an empty one counts as unset. */
export function readCliEnv(environment: Environment): CliEnv {
  const value = (name: keyof CliEnv) => environment[name] || undefined;
  return EnvSchema.parse({
    HERALD_INGEST_URL: value('HERALD_INGEST_URL'),
    HERALD_GATEWAY_URL: value('HERALD_GATEWAY_URL'),
    HERALD_SERVICE_KEY: value('HERALD_SERVICE_KEY'),
    INGEST_PORT: value('INGEST_PORT'),
    GATEWAY_PORT: value('GATEWAY_PORT'),
  });
}

const PortSchema = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be a port number')
  .min(1, 'must be a port number')
  .max(65535, 'must be a port number');

/**
 * Where ingest and the gateway are when neither the command line nor HERALD_INGEST_URL /
 * HERALD_GATEWAY_URL say: the local development stack, on INGEST_PORT / GATEWAY_PORT when set
 * (as `npm start` reads them), else on the default ports.
 */
export function localDefaults(env: CliEnv): { ingest: string; gateway: string } {
  const { ingest, gateway } = parseOptions(
    z.object({ ingest: PortSchema.optional(), gateway: PortSchema.optional() }),
    { ingest: env.INGEST_PORT, gateway: env.GATEWAY_PORT },
    { ingest: 'INGEST_PORT', gateway: 'GATEWAY_PORT' },
  );
  return {
    ingest: ingest === undefined ? DEFAULTS.ingest : `http://localhost:${ingest}`,
    gateway: gateway === undefined ? DEFAULTS.gateway : `http://localhost:${gateway}`,
  };
}

const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const GlobalOptionsSchema = z.object({ ingest: HttpUrl, gateway: HttpUrl, key: z.string().min(1, 'must not be empty') });

/** Command line first, then the environment, then the defaults (which follow INGEST_PORT / GATEWAY_PORT). */
export function resolveSettings(options: Record<string, unknown>, env: CliEnv): Settings {
  const { ingest, gateway, key } = parseOptions(GlobalOptionsSchema, {
    ingest: options['ingest'] ?? env.HERALD_INGEST_URL ?? localDefaults(env).ingest,
    gateway: options['gateway'] ?? env.HERALD_GATEWAY_URL ?? localDefaults(env).gateway,
    key: options['key'] ?? env.HERALD_SERVICE_KEY ?? DEFAULTS.key,
  });
  return { ingestUrl: ingest, gatewayUrl: gateway, serviceKey: key };
}
