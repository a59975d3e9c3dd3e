import { z } from 'zod';
import { AcceptedEventSchema, DeviceIdSchema } from '@herald/contracts';
import type { Notification } from '@herald/contracts';

/**
 * One notification in an account's history: the accepted event plus the devices it was
 * resolved to target when the worker routed it (so pull and replay can filter by device).
 */
export const HistoryEntrySchema = AcceptedEventSchema.extend({
  devices: z.array(DeviceIdSchema),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/** What a notification is made of: a history entry's event fields (its devices are not sent). */
export type NotificationSource = Pick<HistoryEntry, 'id' | 'type' | 'accountId' | 'profileId' | 'payload' | 'createdAt' | 'priority' | 'collapseKey'>;

/** The last creation time formatted: events of one batch usually share it (ingest's default is its arrival). */
let lastCreatedAt = Number.NaN;
let lastCreatedAtIso = '';

function isoTime(ms: number): string {
  if (ms !== lastCreatedAt) {
    lastCreatedAtIso = new Date(ms).toISOString();
    lastCreatedAt = ms;
  }
  return lastCreatedAtIso;
}

/** The contract's `notification` shape of a history entry (or of an accepted event, given its cursor). */
export function toNotification(cursor: string, entry: NotificationSource): Notification {
  const notification: Notification = {
    id: entry.id,
    cursor,
    type: entry.type,
    accountId: entry.accountId,
    payload: entry.payload,
    createdAt: isoTime(entry.createdAt),
    priority: entry.priority,
  };
  if (entry.profileId !== undefined) notification.profileId = entry.profileId;
  if (entry.collapseKey !== undefined) notification.collapseKey = entry.collapseKey;
  return notification;
}
