import { z } from 'zod';
import { AccountIdSchema, DeviceIdSchema, EventIdSchema, ProfileIdSchema, opaqueId } from './identifiers.js';
import { PlatformSchema, PrioritySchema } from './platform.js';

/** The largest serialized `payload` an event may carry. */
export const MAX_PAYLOAD_BYTES = 8 * 1024;
/** How many events one `POST /v1/events/batch` may carry. */
export const MAX_BATCH_EVENTS = 1000;

const TargetsSchema = z
  .object({
    platforms: z.array(PlatformSchema).min(1).max(4).optional(),
    deviceIds: z.array(DeviceIdSchema).min(1).max(1000).optional(),
    profileIds: z.array(ProfileIdSchema).min(1).max(100).optional(),
    excludeDeviceIds: z.array(DeviceIdSchema).min(1).max(1000).optional(),
  })
  .strict();
export type Targets = z.infer<typeof TargetsSchema>;

const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A JSON object, checked in place: `z.record` would copy it key by key, and payloads pass
 * ingest, the router and every gateway node at full rate.
 */
export const JsonObjectSchema = z.custom<Record<string, unknown>>(isJsonObject, { message: 'must be a JSON object' });

/** How deeply a payload may nest objects and arrays (the payload object itself is depth 1). */
export const MAX_PAYLOAD_DEPTH = 32;

/**
 * Whether a parsed JSON value nests objects and arrays deeper than `max`. Iterative, and it
 * stops at the first value too deep: a body nested thousands deep must not overflow the stack
 * here, nor reach anything recursive (JSON.stringify) downstream.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [current, depth] = next;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * An event's payload: a JSON object nested at most MAX_PAYLOAD_DEPTH deep and of at most
 * MAX_PAYLOAD_BYTES serialized. Depth is checked first: serializing is recursive.
 */
const PayloadSchema = JsonObjectSchema.superRefine((payload, ctx) => {
  if (nestedDeeperThan(payload, MAX_PAYLOAD_DEPTH)) {
    ctx.addIssue({ code: 'custom', message: `must nest objects and arrays at most ${MAX_PAYLOAD_DEPTH} deep`, input: payload });
  } else if (Buffer.byteLength(JSON.stringify(payload)) > MAX_PAYLOAD_BYTES) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_PAYLOAD_BYTES} bytes when serialized`, input: payload });
  }
});

/** ISO-8601 date-time or epoch milliseconds, parsed to epoch milliseconds. */
const TimestampSchema = z.union([z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso)), z.number().int().nonnegative().max(8.64e15)]);

/** An event as a service submits it (`POST /v1/events`). */
export const EventInputSchema = z
  .object({
    id: EventIdSchema.optional(),
    type: z.string().min(1).max(128),
    accountId: AccountIdSchema,
    profileId: ProfileIdSchema.optional(),
    payload: PayloadSchema.optional(),
    createdAt: TimestampSchema.optional(),
    // Compared as stored, like ids: ill-formed keys would collapse into one another.
    collapseKey: opaqueId(256).optional(),
    targets: TargetsSchema.optional(),
  })
  .strict();
export type EventInput = z.input<typeof EventInputSchema>;
export type ParsedEventInput = z.output<typeof EventInputSchema>;

/** `POST /v1/events/batch`: the envelope only; each item is validated on its own. */
export const EventBatchSchema = z.object({ events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS) }).strict();

/**
 * An accepted event as it travels through the priority streams to the worker: everything the
 * worker needs, with defaults resolved. Times are epoch milliseconds.
 */
export const AcceptedEventSchema = z.object({
  id: EventIdSchema,
  type: z.string(),
  priority: PrioritySchema,
  accountId: AccountIdSchema,
  profileId: ProfileIdSchema.optional(),
  targets: TargetsSchema.optional(),
  collapseKey: z.string().optional(),
  createdAt: z.number(),
  acceptedAt: z.number(),
  payload: JsonObjectSchema,
});
export type AcceptedEvent = z.infer<typeof AcceptedEventSchema>;

export const AcceptStatusSchema = z.enum(['accepted', 'duplicate']);
export type AcceptStatus = z.infer<typeof AcceptStatusSchema>;
