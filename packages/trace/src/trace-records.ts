import { z } from 'zod';
import {
  AccountIdSchema,
  CursorSchema,
  DeviceIdSchema,
  NoTargetsReasonSchema,
  ProfileIdSchema,
  RoutingVerdictSchema,
  TapRecordSchema,
} from '@herald/contracts';
import type { Platform, TapRecord } from '@herald/contracts';

/**
 * The fields of a trace bucket hash. Short names: at full rate the router's are written for
 * every event.
 * - `<id>:r`: the router's record of an event (RoutingRecord), written atomically with the
 *   acknowledgement; it names the router batch whose delivery jobs carried the event, and the
 *   devices per platform they were to reach;
 * - `@<batch>:p:<platform>`: that batch's `ios`/`android` delivery job sent its signals
 *   (JobPushRecord): one field per job, not per event;
 * - `@<batch>:f:<platform>`: that batch's job of the platform failed for good (FailureRecord).
 * - `@<batch>:s:<platform>:<message>`: what gateways sent of that batch's live message number
 *   `message` (LiveSentSegments, one segment appended per gateway write): one field per message
 *   of up to LIVE_PUSHES_PER_MESSAGE pushes, not one per device; a push dropped as a duplicate
 *   is not listed. (What a gateway sent from history is in the event's own trace hash,
 *   `keys.trace`: `sent:<platform>:<device>`.)
 * Event ids never contain `@`, so the batch fields cannot meet an event's.
 */
export const traceField = {
  routed: (eventId: string) => `${eventId}:r`,
  liveSent: (batch: string, platform: 'web' | 'tv', message: number) => `@${batch}:s:${platform}:${message}`,
  jobPushed: (batch: string, platform: Platform) => `@${batch}:p:${platform}`,
  jobFailed: (batch: string, platform: Platform) => `@${batch}:f:${platform}`,
};

/** The devices, per platform, that an event's delivery jobs are to reach. */
export const PlatformDevicesSchema = z.object({
  web: z.array(DeviceIdSchema).optional(),
  tv: z.array(DeviceIdSchema).optional(),
  ios: z.array(DeviceIdSchema).optional(),
  android: z.array(DeviceIdSchema).optional(),
});
export type PlatformDevices = z.infer<typeof PlatformDevicesSchema>;

/** Where a routed event's push is among its `web`/`tv` job's pushes (its number, from 0; see `livePushPosition`). */
export const LivePushNumbersSchema = z.object({
  web: z.number().int().nonnegative().optional(),
  tv: z.number().int().nonnegative().optional(),
});
export type LivePushNumbers = z.infer<typeof LivePushNumbersSchema>;

/** Where a routed event went for delivery: its router batch's jobs, and its devices in them. */
export interface EventDelivery {
  batch: string;
  devices: PlatformDevices;
  /** Its push's number in the batch's `web`/`tv` job (the device ids of that push: `devices[platform]`). */
  live?: LivePushNumbers;
}

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
  /** With `no_targets`: why (`no_devices`, `none_match`). */
  r: NoTargetsReasonSchema.optional(),
  /** The router batch whose delivery jobs carried the event (see `traceField.jobPushed`). */
  b: z.string().optional(),
  /** The devices, per platform, those jobs were to reach. */
  pd: PlatformDevicesSchema.optional(),
  /** Its push's number among its `web`/`tv` job's live pushes. */
  lp: LivePushNumbersSchema.optional(),
});
export type RoutingRecord = z.infer<typeof RoutingRecordSchema>;

/** A mobile delivery job sent its signals, at `at`. */
export const JobPushRecordSchema = z.object({ at: z.number() });
export type JobPushRecord = z.infer<typeof JobPushRecordSchema>;

export const FailureRecordSchema = z.object({ at: z.number(), e: z.string() });
export type FailureRecord = z.infer<typeof FailureRecordSchema>;

/** A tap entry holds the records of one router batch (at most TAP_RECORDS_PER_BATCH of them). */
export const TapEntrySchema = z.array(TapRecordSchema);

/** Kept short: the tap is for eyes, and under heavy load it samples. */
export const TAP_RECORDS_PER_BATCH = 100;
/** Entries (router batches) the tap stream keeps. */
export const TAP_MAX_ENTRIES = 1000;

/**
 * The router's record of one event (a RoutingRecord), as the JSON its trace field holds. Written
 * out by hand, not through an object and JSON.stringify: the router writes one for every event,
 * and this is a third of what that costs. Strings go through JSON.stringify (ids are escaped).
 */
export function encodeRoutingRecord(record: TapRecord, delivery?: EventDelivery): string {
  const head = `{"v":"${record.verdict}","at":${record.routedAt},"ac":${record.acceptedAt},"a":${JSON.stringify(record.accountId)}`;
  // A routed event's type, profile, creation time and targets are in its history entry.
  if (record.verdict === 'routed' && record.cursor !== undefined) {
    const cursor = `,"k":${JSON.stringify(record.cursor)}`;
    if (delivery === undefined) return `${head}${cursor}}`;
    const live = delivery.live === undefined ? '' : `,"lp":${JSON.stringify(delivery.live)}`;
    return `${head}${cursor},"b":${JSON.stringify(delivery.batch)},"pd":${JSON.stringify(delivery.devices)}${live}}`;
  }
  let json = `${head},"t":${JSON.stringify(record.type)}`;
  if (record.profileId !== undefined) json += `,"p":${JSON.stringify(record.profileId)}`;
  json += `,"c":${record.createdAt}`;
  if (record.targeted.length > 0) json += `,"d":${JSON.stringify(record.targeted)}`;
  if (record.noTargets !== undefined) json += `,"r":"${record.noTargets}"`;
  return `${json}}`;
}

/**
 * What gateways sent of one live message, as its `traceField.liveSent` field holds it: one
 * segment per write, `<epoch ms>:<push>[.<device>],...;`, where `<push>` is the push's index in
 * the message and `<device>` the index of the device in the push's `deviceIds` (left out when 0).
 * Segments are appended (`appendLiveSent`), so gateway nodes never overwrite each other's.
 */
export function encodeLiveSentSegment(at: number, sent: readonly (readonly [push: number, device: number])[]): string {
  let items = '';
  for (const [push, device] of sent) items += `${items === '' ? '' : ','}${push}${device === 0 ? '' : `.${device}`}`;
  return `${at}:${items};`;
}

/** The sends of a `liveSent` field's value (malformed parts skipped: it is read for eyes). */
export function parseLiveSent(value: string): { at: number; push: number; device: number }[] {
  const sent: { at: number; push: number; device: number }[] = [];
  for (const segment of value.split(';')) {
    const colon = segment.indexOf(':');
    const at = Number(segment.slice(0, colon));
    if (colon < 1 || !Number.isSafeInteger(at)) continue;
    for (const item of segment.slice(colon + 1).split(',')) {
      const match = /^(\d+)(?:\.(\d+))?$/.exec(item);
      if (match !== null) sent.push({ at, push: Number(match[1]), device: Number(match[2] ?? 0) });
    }
  }
  return sent;
}
