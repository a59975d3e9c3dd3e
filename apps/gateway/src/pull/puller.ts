import type { DeviceIdentity } from '@herald/contracts';
import type { History, HistoryRecord } from '@herald/history';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { HistoryWakeups, Wakeup } from './history-wakeups.js';
import { selectNotifications } from './selection.js';
import type { PullQuery, PullResult } from './selection.js';

/** History entries read per round trip while scanning for a device's notifications. */
const SCAN_PAGE = 200;

export interface PullerDeps {
  history: History;
  wakeups: HistoryWakeups;
  metrics: GatewayMetrics;
  now: () => number;
}

/**
 * `GET /v1/notifications`: the device's notifications after a cursor, collapsed and limited;
 * with `waitMs`, waits in memory until the account's history grows (or the time is up).
 */
export class Puller {
  constructor(private readonly deps: PullerDeps) {}

  async pull(device: DeviceIdentity, query: PullQuery, signal: AbortSignal): Promise<PullResult> {
    const { history, metrics } = this.deps;
    if (query.after !== undefined && (await history.isTrimmedPast(device.accountId, query.after))) {
      metrics.pulls.inc({ outcome: 'reset' });
      return { notifications: [], cursor: (await history.latestCursor(device.accountId)) ?? null, reset: true };
    }
    const result = query.waitMs > 0 ? await this.longPoll(device, query, signal) : await this.read(device, query.after, query.limit);
    metrics.pulls.inc({ outcome: result.notifications.length > 0 ? 'notifications' : 'empty' });
    return result;
  }

  private async longPoll(device: DeviceIdentity, query: PullQuery, signal: AbortSignal): Promise<PullResult> {
    const { wakeups, metrics, now } = this.deps;
    const deadline = now() + query.waitMs;
    // Listen before the first read, so an append between the read and the wait still wakes it.
    const wakeup: Wakeup = wakeups.register(device.accountId);
    metrics.longPolls.inc();
    try {
      let result = await this.read(device, query.after, query.limit);
      while (result.notifications.length === 0 && !signal.aborted && !wakeup.closed && now() < deadline) {
        await wakeup.wait(deadline - now(), signal);
        if (signal.aborted) break;
        result = await this.read(device, result.cursor ?? query.after, query.limit);
      }
      return result;
    } finally {
      wakeup.dispose();
      metrics.longPolls.dec();
    }
  }

  /** Scans the account's history after `after` (bounded by the history's own length). */
  private async read(device: DeviceIdentity, after: string | undefined, limit: number): Promise<PullResult> {
    const targeted: HistoryRecord[] = [];
    let position = after;
    for (;;) {
      const page = await this.deps.history.range(device.accountId, position, SCAN_PAGE);
      for (const record of page) {
        position = record.cursor;
        if (record.entry.devices.includes(device.deviceId)) targeted.push(record);
      }
      if (page.length < SCAN_PAGE) break;
    }
    return selectNotifications(targeted, limit, position);
  }
}
