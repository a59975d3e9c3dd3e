import { z } from 'zod';
import { AccountIdSchema, DeviceIdSchema, EventIdSchema, ProfileIdSchema } from './identifiers.js';
import { JsonObjectSchema } from './event.js';
import { PrioritySchema } from './platform.js';

/** The largest part of a Redis stream id: 2^64 − 1, as Redis writes it. */
const MAX_STREAM_ID_PART = '18446744073709551615';

/** Whether a run of 1..20 digits is at most 2^64 − 1 (equal lengths compare as numbers do). */
const fitsStreamIdPart = (digits: string) => digits.length < 20 || digits <= MAX_STREAM_ID_PART;

/** A Redis stream entry id (`<ms>-<seq>`), each part at most 2^64 − 1 as Redis requires. */
const streamId = (what: string) =>
  z
    .string()
    .regex(/^\d{1,20}-\d{1,20}$/, `must be ${what} (<ms>-<seq>)`)
    .refine((id) => id.length < 22 || id.split('-').every(fitsStreamIdPart), {
      message: `must be ${what} (<ms>-<seq>, each part at most ${MAX_STREAM_ID_PART})`,
    });

/** A stream entry id given by a client (a dead letter's entry, say): refused here rather than by Redis. */
export const StreamIdSchema = streamId('a stream entry id');

/** The largest stream id: nothing can come after it, so Redis refuses it as an exclusive start. */
const LAST_STREAM_ID = `${MAX_STREAM_ID_PART}-${MAX_STREAM_ID_PART}`;

/**
 * A history cursor: the id of an entry in the account's history stream (`<ms>-<seq>`). A part
 * past 2^64 − 1 Redis would refuse ("Invalid stream ID") once the cursor reached it, and the
 * largest id as the start of what comes after it ("invalid start ID"), so both are refused
 * here, where a cursor enters (pull, the handshake, acks).
 */
export const CursorSchema = streamId('a cursor from Herald').refine((cursor) => cursor !== LAST_STREAM_ID, {
  message: 'must be a cursor from Herald (the largest stream id has nothing after it)',
});
export type Cursor = z.infer<typeof CursorSchema>;

/** Cursors are history stream ids (`<ms>-<seq>`): compared as two integers, not as strings. Negative when a < b. */
export function compareCursors(a: string, b: string): number {
  // Parts of up to 15 digits are exact as numbers (every cursor Redis makes today): no BigInt.
  const aDash = a.indexOf('-');
  const bDash = b.indexOf('-');
  if (aDash > 0 && aDash <= 15 && bDash > 0 && bDash <= 15 && a.length - aDash <= 16 && b.length - bDash <= 16) {
    const ms = Number(a.slice(0, aDash)) - Number(b.slice(0, bDash));
    if (ms !== 0) return ms < 0 ? -1 : 1;
    const seq = Number(a.slice(aDash + 1)) - Number(b.slice(bDash + 1));
    return seq === 0 ? 0 : seq < 0 ? -1 : 1;
  }
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** server → client `notification`, and an item of `GET /v1/notifications`. */
export const NotificationSchema = z.object({
  id: EventIdSchema,
  cursor: CursorSchema,
  type: z.string(),
  accountId: AccountIdSchema,
  profileId: ProfileIdSchema.optional(),
  payload: JsonObjectSchema,
  /** ISO-8601. */
  createdAt: z.string(),
  priority: PrioritySchema,
  collapseKey: z.string().optional(),
});
export type Notification = z.infer<typeof NotificationSchema>;

/** server → client `synced`, after the replay that follows a reconnect. */
export const SyncedSchema = z.object({
  cursor: CursorSchema.nullable(),
  replayed: z.number().int().nonnegative(),
  /** The cursor is older than the retained history: refresh state in full. */
  reset: z.boolean(),
});
export type Synced = z.infer<typeof SyncedSchema>;

/** client → server `ack`. */
export const AckSchema = z.object({ cursor: CursorSchema }).strict();
export type Ack = z.infer<typeof AckSchema>;

/** The Socket.IO handshake's `auth`. A `cursor` of null (or none) means "no cursor": start from now. */
export const HandshakeAuthSchema = z.object({
  token: z.string().min(1).max(4096),
  cursor: CursorSchema.nullish().transform((cursor) => cursor ?? undefined),
});
/** What a client sends as `auth` (the gateway reads it into `{ token, cursor: string | undefined }`). */
export type HandshakeAuth = z.input<typeof HandshakeAuthSchema>;

/** Typed Socket.IO event maps, shared by the gateway, the worker's emitter and the client SDK. */
export interface ServerToClientEvents {
  notification: (notification: Notification, ack?: (reply?: unknown) => void) => void;
  synced: (synced: Synced) => void;
  /** The server asks the client to reconnect (connection lifetime reached). */
  reconnect_requested: (info: { reason: string }) => void;
  error: (error: { code: string; message: string }) => void;
}

export interface ClientToServerEvents {
  ack: (ack: Ack, callback?: (reply: { ok: boolean; error?: { code: string; message: string } }) => void) => void;
}

/** The Socket.IO room of one device; the worker's emitter and the gateway must agree on it. */
export function deviceRoom(accountId: string, deviceId: string): string {
  return `d:${JSON.stringify([accountId, deviceId])}`;
}

export const DeviceIdListSchema = z.array(DeviceIdSchema);
