import { z } from 'zod';
import { ERROR_CODES } from './error-codes.js';
import type { ErrorCode } from './error-codes.js';
import { AcceptStatusSchema } from './event.js';
import { AccountIdSchema, DeviceIdSchema, EventIdSchema, ProfileIdSchema } from './identifiers.js';
import { CursorSchema, NotificationSchema } from './notification.js';
import { PlatformSchema, PrioritySchema } from './platform.js';

/*
 * The bodies the HTTP API answers with, and the pull query, as zod schemas: the OpenAPI
 * documents (`@herald/openapi`) are generated from them and the routes type their answers
 * with their inferred types, so the two cannot drift apart silently.
 */

/** ISO-8601 date-time with a `Z` offset, as `Date#toISOString()` writes it. */
const IsoDateTime = z.iso.datetime();

/** Every error code (`ERROR_CODES`, with the status each maps to). Codes are public API: add new ones, never rename. */
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

/** One problem with a request: `path` is dotted (`events.3.targets.platforms.0`), `''` for the whole body. */
export const ErrorDetailSchema = z.object({ path: z.string(), message: z.string() });
export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;

/** `error` of an error body. */
export const ApiErrorSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  /** One item per problem; on `invalid_request` only. */
  details: z.array(ErrorDetailSchema).optional(),
});

/** The body of every error response: `{ error: { code, message, details? } }`. */
export const ErrorBodySchema = z.object({ error: ApiErrorSchema });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** `POST /v1/events` → 202. */
export const AcceptResultSchema = z.object({ id: EventIdSchema, status: AcceptStatusSchema, priority: PrioritySchema });
export type AcceptResult = z.infer<typeof AcceptResultSchema>;

/** An item of a batch that was accepted (or was a duplicate). */
export const BatchItemAcceptedSchema = AcceptResultSchema.extend({ index: z.number().int().nonnegative() });

/**
 * An item of a batch that was refused: invalid (`invalid_request`), over the backlog
 * (`backlog_exceeded`) or shed while Herald is overloaded (`overloaded`).
 */
export const BatchItemRefusedSchema = z.object({
  index: z.number().int().nonnegative(),
  error: ApiErrorSchema.extend({
    /** On `backlog_exceeded` and `overloaded`: seconds before sending the item again. */
    retryAfterSeconds: z.number().int().nonnegative().optional(),
  }),
});

/** `POST /v1/events/batch` → 202 (or 429 when every item was refused for backlog or shed): one result per item, in order. */
export const BatchResultSchema = z.object({ results: z.array(z.union([BatchItemAcceptedSchema, BatchItemRefusedSchema])) });
export type BatchResult = z.infer<typeof BatchResultSchema>;

/** `POST /v1/devices` → 201. `token` is the device's credential (a JWT) for the gateway. */
export const RegisterDeviceResultSchema = z.object({ deviceId: DeviceIdSchema, token: z.string().min(1) });
export type RegisterDeviceResult = z.infer<typeof RegisterDeviceResultSchema>;

/** A device as `GET /v1/accounts/:accountId/devices` shows it. */
export const DeviceViewSchema = z.object({
  deviceId: DeviceIdSchema,
  platform: PlatformSchema,
  profileId: ProfileIdSchema.nullable(),
  /** Connected to a gateway now (presence). */
  online: z.boolean(),
  lastSeenAt: IsoDateTime,
  /** Has a push token (iOS, Android): false once the push provider reported it dead, until the device registers a new one. */
  hasPushToken: z.boolean(),
});

/** `GET /v1/accounts/:accountId/devices` → 200. */
export const DeviceListSchema = z.object({ devices: z.array(DeviceViewSchema) });
export type DeviceList = z.infer<typeof DeviceListSchema>;

/** An event type as `GET /v1/event-types` shows it: the catalog entry with its platforms resolved. */
export const EventTypeInfoSchema = z.object({
  type: z.string(),
  priority: PrioritySchema,
  staleAfterMs: z.number().int().positive(),
  /** Every platform when the catalog names none. */
  platforms: z.array(PlatformSchema).min(1),
  collapse: z.object({ by: z.string() }).optional(),
  description: z.string().optional(),
});

/** `GET /v1/event-types` → 200. */
export const EventTypeListSchema = z.object({ eventTypes: z.array(EventTypeInfoSchema) });
export type EventTypeList = z.infer<typeof EventTypeListSchema>;

/** The most notifications one pull answers, and the longest a long-poll waits. */
export const MAX_NOTIFICATIONS_LIMIT = 500;
export const MAX_NOTIFICATIONS_WAIT_MS = 30_000;

/** The query of `GET /v1/notifications`: the gateway parses it with this very schema. */
export const NotificationsQuerySchema = z
  .object({
    /** An empty `after=` means "no cursor", as no `after` does. */
    after: z.union([CursorSchema, z.literal('').transform(() => undefined)]).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_NOTIFICATIONS_LIMIT).default(100),
    waitMs: z.coerce.number().int().min(0).max(MAX_NOTIFICATIONS_WAIT_MS).default(0),
  })
  .strict();

/** `GET /v1/notifications` → 200. */
export const NotificationsPageSchema = z.object({
  notifications: z.array(NotificationSchema),
  /** Where the next pull starts (`after`); null while the account's history is empty. */
  cursor: CursorSchema.nullable(),
  /** `after` is older than the retained history: refresh state in full, then pull from `cursor`. */
  reset: z.boolean(),
});
export type NotificationsPage = z.infer<typeof NotificationsPageSchema>;

/** `GET /healthz` → 200: the process is up. */
export const HealthSchema = z.object({ status: z.literal('ok') });

/** `GET /readyz` → 200: Redis answers (503 with an error body when not). */
export const ReadinessSchema = z.object({ status: z.literal('ready') });

/** `/v1/accounts/:accountId/devices`. */
export const AccountPathSchema = z.object({ accountId: AccountIdSchema });

/** `/v1/accounts/:accountId/devices/:deviceId`. */
export const DevicePathSchema = z.object({ accountId: AccountIdSchema, deviceId: DeviceIdSchema });

/** `/v1/events/:id`. */
export const EventPathSchema = z.object({ id: EventIdSchema });
