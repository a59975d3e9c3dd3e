import { z } from 'zod';
import { AccountIdSchema, CursorSchema, DeviceIdSchema, EventIdSchema, NotificationSchema, PrioritySchema, encodeLiveBatches, encodeLivePush } from '@herald/contracts';
import type { Priority } from '@herald/contracts';

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
 * A `web` or `tv` delivery job: notifications to push, each to some devices of its account.
 * The notifications themselves are not in the job: the router stages them, already encoded
 * as live messages, in a Redis list of their own (`live`, see `keys.liveBatch`), and the
 * delivery publishes that list from inside Redis. So the job stays small, and a notification
 * crosses the network once on its way to the gateways instead of three times.
 */
export const SocketDeliveryJobSchema = z.object({
  /** The priority whose live channel the pushes go to. */
  priority: PrioritySchema,
  /** The key of the job's staged live messages. */
  live: z.string().min(1),
  items: z.array(SocketItemSchema),
  /** The trace hash the delivery records its pushes in. */
  traceKey: z.string().optional(),
  /** The router batch the job is of: its push is recorded once, under this name, in the trace hash. */
  batch: z.string().optional(),
});
export type SocketDeliveryJob = z.infer<typeof SocketDeliveryJobSchema>;

/**
 * The `web`/`tv` job of versions before staged live batches: each notification's JSON inside
 * the job. Jobs still queued from before an upgrade are delivered, not failed.
 */
const InlineSocketDeliveryJobSchema = z.object({
  priority: PrioritySchema,
  items: z.array(SocketItemSchema.extend({ notification: z.string() })),
  traceKey: z.string().optional(),
  batch: z.string().optional(),
});

/** The `web`/`tv` job of versions before live batches (each notification as an object, emitted one by one). */
const LegacySocketDeliveryJobSchema = z.object({
  items: z.array(z.object({ accountId: AccountIdSchema, deviceIds: z.array(DeviceIdSchema).min(1), notification: NotificationSchema, acceptedAt: z.number() })).min(1),
  traceKey: z.string().optional(),
});

/** A `web`/`tv` job, whichever version queued it. */
export interface SocketDelivery {
  priority: Priority;
  items: SocketItem[];
  traceKey?: string | undefined;
  batch?: string | undefined;
  /** Where its live messages are: staged in Redis (this version), or in the job (earlier ones). */
  messages: { staged: string } | { inline: string[] };
}

/** The live messages of a job that carried its notifications (JSON) inside, as the router stages them now. */
function inlineMessages(items: readonly { accountId: string; deviceIds: readonly string[]; notification: string }[]): { inline: string[] } {
  return { inline: encodeLiveBatches(items.map((item) => encodeLivePush(item.accountId, item.deviceIds, item.notification))) };
}

/** A `web`/`tv` job's data, whichever version queued it; undefined when it is none of them. */
export function readSocketDeliveryJob(data: unknown): SocketDelivery | undefined {
  const current = SocketDeliveryJobSchema.safeParse(data);
  if (current.success) {
    const { live, ...job } = current.data;
    return { ...job, messages: { staged: live } };
  }
  const inline = InlineSocketDeliveryJobSchema.safeParse(data);
  if (inline.success) {
    const { items, ...job } = inline.data;
    return { ...job, items: items.map(({ notification: _, ...item }) => item), messages: inlineMessages(items) };
  }
  const legacy = LegacySocketDeliveryJobSchema.safeParse(data);
  if (!legacy.success) return undefined;
  const { items, traceKey } = legacy.data;
  return {
    priority: items[0]!.notification.priority,
    items: items.map(({ accountId, deviceIds, notification, acceptedAt }) => ({ accountId, deviceIds, eventId: notification.id, acceptedAt })),
    traceKey,
    messages: inlineMessages(items.map((item) => ({ ...item, notification: JSON.stringify(item.notification) }))),
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
