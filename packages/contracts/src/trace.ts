import { z } from 'zod';
import { AccountIdSchema, DeviceIdSchema, EventIdSchema, ProfileIdSchema } from './identifiers.js';
import { CursorSchema } from './notification.js';
import { PlatformSchema, PrioritySchema } from './platform.js';

/**
 * What the router decided for one event, by one name everywhere (traces, the live tap, the CLI,
 * metrics): `routed` means it reached the history; `stale`, `duplicate` and `no_targets` mean a
 * gate dropped it (the trace's `status` is then `dropped`).
 */
export const RoutingVerdictSchema = z.enum(['routed', 'stale', 'duplicate', 'no_targets']);
export type RoutingVerdict = z.infer<typeof RoutingVerdictSchema>;

/**
 * Why an event had no targets: the account has no devices at all (`no_devices`), or none of
 * them matches the type's platforms and the event's targets (`none_match`).
 */
export const NoTargetsReasonSchema = z.enum(['no_devices', 'none_match']);
export type NoTargetsReason = z.infer<typeof NoTargetsReasonSchema>;

/** One gate of the router, in the order they run. */
export const GateNameSchema = z.enum(['stale', 'duplicate', 'targeting', 'history', 'online']);
export type GateName = z.infer<typeof GateNameSchema>;

const IsoTime = z.string().describe('ISO-8601 time');

/**
 * One gate's verdict: `passed`, `dropped` (the event went no further), or `skipped` (an earlier
 * gate dropped it). `devices` names the devices the gate let through (targeting: targeted;
 * online: connected to a gateway when routed). `reason` says, in words, why a gate dropped the
 * event or was skipped.
 */
export const GateVerdictSchema = z.object({
  gate: GateNameSchema,
  verdict: z.enum(['passed', 'dropped', 'skipped']),
  reason: z.string().optional(),
  devices: z.array(DeviceIdSchema).optional(),
  cursor: CursorSchema.optional(),
});
export type GateVerdict = z.infer<typeof GateVerdictSchema>;

/** `GET /v1/events/:id`: where one event went and why. Times are ISO-8601. */
export const EventTraceSchema = z.object({
  id: EventIdSchema,
  priority: PrioritySchema,
  /** `queued`: accepted, waiting in its priority stream; `routed`: in the history; `dropped`: a gate stopped it. */
  status: z.enum(['queued', 'routed', 'dropped']),
  /** The router's verdict, as the live tap and the metrics name it; absent while queued. */
  verdict: RoutingVerdictSchema.optional(),
  /** Absent while queued. */
  acceptedAt: IsoTime.optional(),
  type: z.string().optional(),
  accountId: AccountIdSchema.optional(),
  profileId: ProfileIdSchema.optional(),
  createdAt: IsoTime.optional(),
  routedAt: IsoTime.optional(),
  gates: z.array(GateVerdictSchema),
  /** The history cursor devices see for it. */
  cursor: CursorSchema.optional(),
  pushes: z.array(z.object({ deviceId: DeviceIdSchema, platform: PlatformSchema, at: IsoTime })),
  /** Push deliveries that failed (after retries, for mobile providers). */
  failures: z.array(z.object({ platform: PlatformSchema, at: IsoTime, error: z.string() })),
  acks: z.array(z.object({ deviceId: DeviceIdSchema, at: IsoTime })),
});
export type EventTrace = z.infer<typeof EventTraceSchema>;

/** One routed event on the live tap: what the router decided, as it decided it. */
export const TapRecordSchema = z.object({
  id: EventIdSchema,
  type: z.string(),
  accountId: AccountIdSchema,
  profileId: ProfileIdSchema.optional(),
  priority: PrioritySchema,
  /** Epoch ms. */
  createdAt: z.number(),
  acceptedAt: z.number(),
  routedAt: z.number(),
  verdict: RoutingVerdictSchema,
  /** With `no_targets`: why there were none (absent in records of routers before it). */
  noTargets: NoTargetsReasonSchema.optional(),
  cursor: CursorSchema.optional(),
  targeted: z.array(DeviceIdSchema),
  online: z.array(DeviceIdSchema),
});
export type TapRecord = z.infer<typeof TapRecordSchema>;
