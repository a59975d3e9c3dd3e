import { ERROR_CODES, PRIORITIES } from '@herald/contracts';
import type { ErrorCode } from '@herald/contracts';
import { Counter, initCounterSeries } from '@herald/runtime';
import type { Registry } from '@herald/runtime';

/** The reasons a request or an event can be refused for: every client-fault code. */
const REFUSAL_REASONS = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code] < 500);

export interface IngestMetrics {
  accepted: Counter<'priority'>;
  duplicates: Counter<'priority'>;
  rejected: Counter<'reason'>;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  const metrics: IngestMetrics = {
    accepted: new Counter({
      name: 'herald_events_accepted_total',
      help: 'Events accepted into the priority streams',
      labelNames: ['priority'],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'herald_events_duplicate_total',
      help: 'Events whose id was already accepted within the idempotency window',
      labelNames: ['priority'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'herald_events_rejected_total',
      help: 'Events refused, by reason (the error code)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
  // Every series from the first scrape, at 0.
  initCounterSeries(metrics.accepted, { priority: PRIORITIES });
  initCounterSeries(metrics.duplicates, { priority: PRIORITIES });
  initCounterSeries(metrics.rejected, { reason: REFUSAL_REASONS });
  return metrics;
}
