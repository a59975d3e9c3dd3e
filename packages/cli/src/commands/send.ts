import { z } from 'zod';
import { HeraldPublisher } from '@herald/client';
import type { EventInput, PublisherRetry } from '@herald/client';
import { AccountIdSchema, DeviceIdSchema, EventIdSchema, PlatformSchema, ProfileIdSchema } from '@herald/contracts';
import { UsageError, parseOptions } from '../cli-error.js';
import type { CliIo } from '../io.js';
import type { Settings } from '../settings.js';

const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    )
    .pipe(z.array(item).min(1));

export const SendOptionsSchema = z.object({
  account: AccountIdSchema,
  profile: ProfileIdSchema.optional(),
  payload: z.string().optional(),
  id: EventIdSchema.optional(),
  collapseKey: z.string().min(1).max(256).optional(),
  createdAt: z.string().min(1).optional(),
  platforms: list(PlatformSchema).optional(),
  devices: list(DeviceIdSchema).optional(),
});

const SendArgsSchema = SendOptionsSchema.extend({ type: z.string().min(1).max(128) });

/** `--payload` must be a JSON object. */
function parsePayload(raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new UsageError(`--payload is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('--payload must be a JSON object, e.g. \'{"plan":"premium"}\'');
  return value as Record<string, unknown>;
}

/** `--created-at`: epoch milliseconds (digits) or an ISO-8601 time, passed on for ingest to check. */
function parseCreatedAt(raw: string): string | number {
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

/** The event `herald send` submits. */
export function buildEvent(type: string, options: z.output<typeof SendOptionsSchema>): EventInput {
  const targets = {
    ...(options.platforms === undefined ? {} : { platforms: options.platforms }),
    ...(options.devices === undefined ? {} : { deviceIds: options.devices }),
  };
  return {
    type,
    accountId: options.account,
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.profile === undefined ? {} : { profileId: options.profile }),
    ...(options.payload === undefined ? {} : { payload: parsePayload(options.payload) }),
    ...(options.collapseKey === undefined ? {} : { collapseKey: options.collapseKey }),
    ...(options.createdAt === undefined ? {} : { createdAt: parseCreatedAt(options.createdAt) }),
    ...(Object.keys(targets).length === 0 ? {} : { targets }),
  };
}

/** Retries of `herald send` after a passing failure (backlog, load shedding, 5xx, network), each after its `Retry-After`. */
export const SEND_RETRIES = 2;

/** The stderr line saying that `herald send` waits before trying again, and why. */
export function describeRetry({ error, delayMs, attempt }: PublisherRetry): string {
  const why = error.code === 'overloaded' ? 'Herald is overloaded and sheds this priority for now' : error.message.replace(/\.$/, '');
  return `herald: ${why} (${error.code}); retrying in ${(delayMs / 1000).toFixed(1)} s (${attempt} of ${SEND_RETRIES})\n`;
}

/**
 * `herald send <type> --account <id> …`: submits one event and prints `{ id, status, priority }`.
 * A refusal that may pass (`overloaded`, `backlog_exceeded`, 5xx, network) is retried twice,
 * each time after the server's `Retry-After` at least, saying so on stderr.
 */
export async function sendCommand(type: string, rawOptions: unknown, settings: Settings, io: CliIo): Promise<void> {
  const { type: eventType, ...options } = parseOptions(SendArgsSchema, { type, ...(rawOptions as object) }, { type: '<type>' });
  const event = buildEvent(eventType, options);
  const publisher = new HeraldPublisher({
    url: settings.ingestUrl,
    serviceKey: settings.serviceKey,
    maxDelayMs: 0,
    maxRetries: SEND_RETRIES,
    onRetry: (retry) => io.stderr.write(describeRetry(retry)),
  });
  try {
    const result = await publisher.send(event);
    io.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await publisher.close();
  }
}
