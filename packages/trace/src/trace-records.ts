import { z } from 'zod';
import {
  AccountIdSchema,
  CursorSchema,
  DeviceIdSchema,
  ProfileIdSchema,
  RoutingVerdictSchema,
  TapRecordSchema,
} from '@herald/contracts';
import type { Platform, TapRecord } from '@herald/contracts';

/**
 * The fields of a trace bucket hash, per event id. Short names: at full rate these are written
 * for every event.
 * - `<id>:r`: the router's record (RoutingRecord), written atomically with the acknowledgement;
 * - `<id>:p:<platform>`: a delivery (PushRecord), by the delivery worker after emitting or sending;
 * - `<id>:f:<platform>`: a delivery that failed for good (FailureRecord).
 */
export const traceField = {
  routed: (eventId: string) => `${eventId}:r`,
  pushed: (eventId: string, platform: Platform) => `${eventId}:p:${platform}`,
  failed: (eventId: string, platform: Platform) => `${eventId}:f:${platform}`,
};

/**
 * The router's record of one event, stored compactly: it is written for every event. A routed
 * event's type, profile, creation time and targets are in its history entry (found by account
 * and cursor), so its record leaves them out; a dropped event's record has them.
 */
export const RoutingRecordSchema = z.object({
  v: RoutingVerdictSchema,
  at: z.number(),
  /** Accepted at (epoch ms). */
  ac: z.number(),
  a: AccountIdSchema,
  t: z.string().optional(),
  p: ProfileIdSchema.optional(),
  c: z.number().optional(),
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
  const common = { v: record.verdict, at: record.routedAt, ac: record.acceptedAt, a: record.accountId };
  if (record.verdict === 'routed' && record.cursor !== undefined) {
    return { ...common, k: record.cursor, ...(record.online.length === 0 ? {} : { o: record.online }) };
  }
  return {
    ...common,
    t: record.type,
    ...(record.profileId === undefined ? {} : { p: record.profileId }),
    c: record.createdAt,
    ...(record.targeted.length === 0 ? {} : { d: record.targeted }),
  };
}
