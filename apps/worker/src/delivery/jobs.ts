import { z } from 'zod';
import { AccountIdSchema, CursorSchema, DeviceIdSchema, EventIdSchema, NotificationSchema, PrioritySchema } from '@herald/contracts';

/** A `web` or `tv` delivery job: notifications to emit, each to the rooms of its devices. */
export const SocketDeliveryJobSchema = z.object({
  items: z.array(
    z.object({
      accountId: AccountIdSchema,
      deviceIds: z.array(DeviceIdSchema).min(1),
      notification: NotificationSchema,
      acceptedAt: z.number(),
    }),
  ),
  /** The trace hash the delivery records its pushes in (absent in jobs from before tracing). */
  traceKey: z.string().optional(),
});
export type SocketDeliveryJob = z.infer<typeof SocketDeliveryJobSchema>;

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
export const PushDeliveryJobSchema = z.object({ signals: z.array(PushSignalSchema), traceKey: z.string().optional() });
export type PushDeliveryJob = z.infer<typeof PushDeliveryJobSchema>;
