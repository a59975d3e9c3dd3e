import { z } from 'zod';
import { AccountIdSchema, CursorSchema, DeviceIdSchema, EventIdSchema, NotificationSchema, PrioritySchema } from '@herald/contracts';

/**
 * A `web` or `tv` delivery job: notifications to push, each to some devices of its account.
 * The router serializes each notification once (`notification`, the contract's JSON); the
 * delivery passes it on to the gateways as it is, and the gateways validate it.
 */
export const SocketDeliveryJobSchema = z.object({
  /** The priority whose live channel the pushes go to. */
  priority: PrioritySchema,
  items: z.array(
    z.object({
      accountId: AccountIdSchema,
      deviceIds: z.array(DeviceIdSchema).min(1),
      eventId: EventIdSchema,
      /** Notification JSON. */
      notification: z.string(),
      acceptedAt: z.number(),
    }),
  ),
  /** The trace hash the delivery records its pushes in (absent in jobs from before tracing). */
  traceKey: z.string().optional(),
  /** The router batch the job is of: its push is recorded once, under this name, in the trace hash. */
  batch: z.string().optional(),
});
export type SocketDeliveryJob = z.infer<typeof SocketDeliveryJobSchema>;

/**
 * The `web`/`tv` job of workers before live batches (each notification as an object, emitted
 * one by one): jobs still queued from before an upgrade are delivered, not failed.
 */
const LegacySocketDeliveryJobSchema = z.object({
  items: z.array(z.object({ accountId: AccountIdSchema, deviceIds: z.array(DeviceIdSchema).min(1), notification: NotificationSchema, acceptedAt: z.number() })).min(1),
  traceKey: z.string().optional(),
});

/** A `web`/`tv` job's data, in this version's shape whichever version queued it; undefined when it is neither. */
export function readSocketDeliveryJob(data: unknown): SocketDeliveryJob | undefined {
  const current = SocketDeliveryJobSchema.safeParse(data);
  if (current.success) return current.data;
  const legacy = LegacySocketDeliveryJobSchema.safeParse(data);
  if (!legacy.success) return undefined;
  const { items, traceKey } = legacy.data;
  return {
    priority: items[0]!.notification.priority,
    items: items.map(({ accountId, deviceIds, notification, acceptedAt }) => ({
      accountId,
      deviceIds,
      eventId: notification.id,
      notification: JSON.stringify(notification),
      acceptedAt,
    })),
    ...(traceKey === undefined ? {} : { traceKey }),
  };
}

/** One "something changed, pull" signal to a mobile device. */
export const PushSignalSchema = z.object({
  accountId: AccountIdSchema,
  deviceId: DeviceIdSchema,
  pushToken: z.string().optional(),
  /** The newest cursor the device can pull up to. */
  cursor: CursorSchema,
  eventIds: z.array(EventIdSchema).min(1),
  priority: PrioritySchema,
  acceptedAt: z.number(),
});
export type PushSignal = z.infer<typeof PushSignalSchema>;

/** An `ios` or `android` delivery job: signals, at most one per device. */
export const PushDeliveryJobSchema = z.object({ signals: z.array(PushSignalSchema), traceKey: z.string().optional(), batch: z.string().optional() });
export type PushDeliveryJob = z.infer<typeof PushDeliveryJobSchema>;
