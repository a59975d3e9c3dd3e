import { z } from 'zod';
import { AccountIdSchema, CursorSchema, DeviceIdSchema, EventIdSchema, PrioritySchema } from '@herald/contracts';

/*
 * The delivery jobs: what the router (`router/`, the producer) puts in the BullMQ queues and the
 * delivery workers (`delivery/`, the consumers) read back, validating it with these schemas. It
 * lives beside both so that neither role imports the other. Queue names come from
 * `keys.deliveryQueue` / `keys.queuePrefix` (`@herald/redis`).
 */

/**
 * How long BullMQ keeps finished delivery jobs. Completed ones: the newest 100 per queue, for the
 * board (retries are recognized by the deduplication key, not by completed jobs). Failed ones
 * are the delivery dead letters, kept for a week to be looked at and retried.
 */
export const JOB_RETENTION = {
  completed: { age: 3600, count: 100 },
  failed: { age: 7 * 24 * 3600 },
} as const;

/** One notification of a `web`/`tv` job, as its metrics, logs and traces need it. */
export const SocketItemSchema = z.object({
  accountId: AccountIdSchema,
  deviceIds: z.array(DeviceIdSchema).min(1),
  eventId: EventIdSchema,
  acceptedAt: z.number(),
});
export type SocketItem = z.infer<typeof SocketItemSchema>;

/**
 * A `web` or `tv` delivery job: the live pushes of one router batch for one platform. The
 * router encodes each notification once and stages the live messages in the partition's slot
 * (`staged`, see `keys.liveStaged`); the delivery moves them into the partition's live stream
 * (`@herald/live`) inside Redis. So the job stays small and the messages cross the network once.
 */
export const SocketDeliveryJobSchema = z.object({
  /** The stream partition the router batch came from: its live stream is the one appended to. */
  priority: PrioritySchema,
  partition: z.number().int().nonnegative(),
  /** The key of the job's staged live messages. */
  staged: z.string().min(1),
  items: z.array(SocketItemSchema),
  /** The trace hash a delivery that failed for good is recorded in. */
  traceKey: z.string().optional(),
  /** The router batch the job is of. */
  batch: z.string().optional(),
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

/**
 * What earlier attempts of a push job got done, kept in the job (`job.updateData`) so that a
 * retry resends only to the devices still owed a signal, never to one already signalled.
 */
export const PushProgressSchema = z.object({
  /** Indices in `signals` of the devices finished with: signalled, token dropped, without a token, or held by their coalescing window. */
  done: z.array(z.number().int().nonnegative()),
  /**
   * Signals past the coalescing gate and not delivered yet, by index in `signals`: what to send
   * (the gate may have handed over a newer held signal). A retry sends them without asking the
   * gate again, which would hold them in the window their first attempt opened.
   */
  cleared: z.record(z.string().regex(/^\d+$/), PushSignalSchema).optional(),
});
export type PushProgress = z.infer<typeof PushProgressSchema>;

/** An `ios` or `android` delivery job: signals, at most one per device. */
export const PushDeliveryJobSchema = z.object({
  signals: z.array(PushSignalSchema),
  traceKey: z.string().optional(),
  batch: z.string().optional(),
  progress: PushProgressSchema.optional(),
  /**
   * Set on a coalescing window's trailing job: the device whose held signal it sends once the
   * window is over (its `signals` stay empty until it takes that signal), and the priority of
   * the queue it is in.
   */
  trailing: z.object({ accountId: AccountIdSchema, deviceId: DeviceIdSchema, priority: PrioritySchema }).optional(),
});
export type PushDeliveryJob = z.infer<typeof PushDeliveryJobSchema>;

/**
 * The BullMQ backoff of push jobs: exponential from 0.5 s like the others, but never sooner
 * than the Retry-After a provider asked for (a strategy of the delivery workers, see
 * `pushBackoffStrategy`). NEVER RENAME: queued jobs carry the type name.
 */
export const PUSH_BACKOFF = { type: 'push-retry-after', delay: 500 } as const;
