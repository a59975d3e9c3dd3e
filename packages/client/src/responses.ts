import { z } from 'zod';
import { AcceptResultSchema } from '@herald/contracts';
import type { AcceptResult, DeviceList, EventTypeList, NotificationsPage, RegisterDeviceResult } from '@herald/contracts';

/**
 * The HTTP answers the SDK reads are checked with the contract's schemas (`@herald/contracts`'
 * `http-api.ts`). Errors are read more leniently than the contract writes them: `code` is any
 * string, not the contract's enum, because codes are add-only and an app built with this SDK
 * may meet a newer server with a code it does not know; it should still see that code, not a
 * parse failure.
 */

/** What `HeraldPublisher.send` resolves with: `{ id, status, priority }`. */
export type EventResult = AcceptResult;
export type RegisteredDevice = RegisterDeviceResult;
export type DeviceView = DeviceList['devices'][number];
export type EventTypeInfo = EventTypeList['eventTypes'][number];
export type PullResponse = NotificationsPage;

const ErrorDetailSchema = z.object({ path: z.string(), message: z.string() });

/** `{ code, message, details? }` with any code. */
export const LenientErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  details: z.array(ErrorDetailSchema).optional(),
});

/** Every error response: `{ error: { code, message, details? } }`. */
export const ErrorBodySchema = z.object({ error: LenientErrorSchema });

/** `POST /v1/events/batch` (202, or 429 when every item was refused for backlog or shed), item errors read leniently. */
export const BatchResponseSchema = z.object({
  results: z.array(
    z.union([
      AcceptResultSchema.extend({ index: z.number().int().nonnegative() }),
      z.object({
        index: z.number().int().nonnegative(),
        /** `retryAfterSeconds` is set on `backlog_exceeded` and `overloaded`: the item may be sent again after it. */
        error: LenientErrorSchema.extend({ retryAfterSeconds: z.number().nonnegative().optional() }),
      }),
    ]),
  ),
});

/** server → client `reconnect_requested`. */
export const ReconnectRequestedSchema = z.object({ reason: z.string() });
