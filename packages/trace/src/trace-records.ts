import { z } from 'zod';
import {
  AccountIdSchema,
  CursorSchema,
  DeviceIdSchema,
  EventIdSchema,
  ProfileIdSchema,
  RoutingVerdictSchema,
  TapRecordSchema,
} from '@herald/contracts';
import type { Platform, TapRecord } from '@herald/contracts';

/**
 * The fields of a trace bucket hash, per event id. Short names: at full rate these are written
 * for every event.
 * - `<id>`: the stream entry id ingest appended the event in (its accept time), by ingest's script;
 * - `<id>:r`: the router's record (RoutingRecord), written atomically with the acknowledgement;
 * - `<id>:p:<platform>`: a delivery (PushRecord), by the delivery worker after emitting or sending;
 * - `<id>:f:<platform>`: a delivery that failed for good (FailureRecord).
 */
export const traceField = {
  accepted: (eventId: string) => eventId,
  routed: (eventId: string) => `${eventId}:r`,
  pushed: (eventId: string, platform: Platform) => `${eventId}:p:${platform}`,
  failed: (eventId: string, platform: Platform) => `${eventId}:f:${platform}`,
};

/** The router's record of one event: the same facts as the tap's, stored compactly. */
export const RoutingRecordSchema = z.object({
  v: RoutingVerdictSchema,
  at: z.number(),
  /** Accepted at (epoch ms). */
  ac: z.number(),
  t: z.string(),
  a: AccountIdSchema,
  p: ProfileIdSchema.optional(),
  c: z.number(),
  k: CursorSchema.optional(),
  d: z.array(DeviceIdSchema).optional(),
  o: z.array(DeviceIdSchema).optional(),
});
export type RoutingRecord = z.infer<typeof RoutingRecordSchema>;

export const PushRecordSchema = z.object({ at: z.number(), d: z.array(DeviceIdSchema) });
export type PushRecord = z.infer<typeof PushRecordSchema>;

export const FailureRecordSchema = z.object({ at: z.number(), e: z.string() });
export type FailureRecord = z.infer<typeof FailureRecordSchema>;

/** A tap entry holds the records of one router batch (at most TAP_RECORDS_PER_BATCH of them). */
export const TapEntrySchema = z.array(TapRecordSchema);

/** Kept short: the tap is for eyes, and under heavy load it samples. */
export const TAP_RECORDS_PER_BATCH = 100;
/** Entries (router batches) the tap stream keeps. */
export const TAP_MAX_ENTRIES = 1000;

export function toRoutingRecord(record: TapRecord): RoutingRecord {
  return {
    v: record.verdict,
    at: record.routedAt,
    ac: record.acceptedAt,
    t: record.type,
    a: record.accountId,
    ...(record.profileId === undefined ? {} : { p: record.profileId }),
    c: record.createdAt,
    ...(record.cursor === undefined ? {} : { k: record.cursor }),
    ...(record.targeted.length === 0 ? {} : { d: record.targeted }),
    ...(record.online.length === 0 ? {} : { o: record.online }),
  };
}

/** The fields of a queued event the trace shows, read back from its stream entry. */
export const QueuedEventSchema = z.object({
  id: EventIdSchema,
  type: z.string(),
  accountId: AccountIdSchema,
  profileId: ProfileIdSchema.optional(),
  createdAt: z.number(),
  acceptedAt: z.number(),
});

/** JSON.parse that answers undefined for malformed input (the zod check then rejects it). */
export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
