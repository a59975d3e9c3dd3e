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

/** The contract's `notification` shape of a history entry. */
export function toNotification(cursor: string, entry: HistoryEntry): Notification {
  const notification: Notification = {
    id: entry.id,
    cursor,
    type: entry.type,
    accountId: entry.accountId,
    payload: entry.payload,
    createdAt: new Date(entry.createdAt).toISOString(),
    priority: entry.priority,
  };
  if (entry.profileId !== undefined) notification.profileId = entry.profileId;
  if (entry.collapseKey !== undefined) notification.collapseKey = entry.collapseKey;
  return notification;
}
