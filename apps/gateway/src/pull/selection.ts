import type { z } from 'zod';
import { MAX_NOTIFICATIONS_LIMIT, MAX_NOTIFICATIONS_WAIT_MS, NotificationsQuerySchema } from '@herald/contracts';
import type { Notification } from '@herald/contracts';
import type { HistoryRecord } from '@herald/history';
import { toNotification } from '@herald/history';

export const MAX_PULL_LIMIT = MAX_NOTIFICATIONS_LIMIT;
export const MAX_WAIT_MS = MAX_NOTIFICATIONS_WAIT_MS;

/** The query of `GET /v1/notifications`: the public contract's, which the OpenAPI document shows. */
export const PullQuerySchema = NotificationsQuerySchema;
export type PullQuery = z.infer<typeof PullQuerySchema>;

export interface PullResult {
  notifications: Notification[];
  /**
   * Where the next pull starts (`after`): everything up to it was returned or does not concern
   * the device (not targeted at it, or superseded by a newer notification with the same
   * collapse key that comes later). Null when the history holds nothing yet.
   */
  cursor: string | null;
  reset: boolean;
}

/** Only the newest record of each collapse key; records without one all stay. Order kept. */
export function collapse(records: readonly HistoryRecord[]): HistoryRecord[] {
  const seen = new Set<string>();
  const kept: HistoryRecord[] = [];
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i];
    if (record === undefined) continue;
    const key = record.entry.collapseKey;
    if (key !== undefined) {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    kept.push(record);
  }
  return kept.reverse();
}

/**
 * What one pull answers, from the device's records after `after` (oldest first) and the last
 * cursor read (`position`). Collapsed first, then cut at `limit`: when cut, the cursor is the
 * last one returned, so the next pull continues right after it; a record skipped as superseded
 * before that cursor has its newer version after it.
 */
export function selectNotifications(targeted: readonly HistoryRecord[], limit: number, position: string | undefined): PullResult {
  const collapsed = collapse(targeted);
  const returned = collapsed.slice(0, limit);
  const cut = collapsed.length > limit;
  const last = returned[returned.length - 1];
  return {
    notifications: returned.map(({ cursor, entry }) => toNotification(cursor, entry)),
    cursor: (cut ? last?.cursor : position) ?? null,
    reset: false,
  };
}
