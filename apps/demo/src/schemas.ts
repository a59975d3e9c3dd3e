import { z } from 'zod';
import { AccountIdSchema, DeviceIdSchema, EventInputSchema, PlatformSchema, PrioritySchema, RegisterDeviceSchema } from '@herald/contracts';

/**
 * The demo page's own API (`/api/*` of the demo app), shared by the demo's router and the
 * browser script, so both sides parse the same shapes. Development only.
 */

/** Platforms the page's main pane can be: the ones that hold a Socket.IO connection. */
export const DEMO_SOCKET_PLATFORMS = ['web', 'tv'] as const;

/** `GET /?account=&platform=`: both optional (a random demo account, web). */
export const DemoQuerySchema = z
  .object({
    account: AccountIdSchema.optional(),
    platform: z.enum(DEMO_SOCKET_PLATFORMS).default('web'),
  })
  .strict();
export type DemoQuery = z.output<typeof DemoQuerySchema>;

/** `POST /api/devices`: registers with ingest (or re-registers, keeping its credential) a demo device. */
export const DemoDeviceRequestSchema = RegisterDeviceSchema.pick({ accountId: true, platform: true, deviceId: true });
export type DemoDeviceRequest = z.infer<typeof DemoDeviceRequestSchema>;

/** 201 answer of `POST /api/devices`. */
export const DemoDeviceSchema = z.object({
  accountId: AccountIdSchema,
  deviceId: DeviceIdSchema,
  platform: PlatformSchema,
  token: z.string().min(1),
});
export type DemoDevice = z.infer<typeof DemoDeviceSchema>;

/** `POST /api/events`: a sample event; without `payload` the demo makes up a sample one. */
export const DemoEventRequestSchema = z
  .object({
    accountId: AccountIdSchema,
    type: z.string().min(1).max(128),
    // An event's own payload rule (an object, 8 KiB, 32 deep): the page forwards it to ingest as JSON.
    payload: EventInputSchema.shape.payload,
  })
  .strict();
export type DemoEventRequest = z.infer<typeof DemoEventRequestSchema>;

/** One catalog type as ingest's `GET /v1/event-types` lists it (fields the demo does not use are let through). */
const EventTypeSchema = z.object({
  type: z.string().min(1),
  priority: PrioritySchema,
  platforms: z.array(PlatformSchema),
  description: z.string().optional(),
});

export const IngestEventTypesSchema = z.object({ eventTypes: z.array(EventTypeSchema) });

/** `GET /api/event-types`: the catalog ingest uses, each type with the sample payload its button sends. */
export const DemoEventTypesSchema = z.object({
  eventTypes: z.array(EventTypeSchema.extend({ sample: z.record(z.string(), z.unknown()) })),
});
export type DemoEventTypes = z.infer<typeof DemoEventTypesSchema>;
