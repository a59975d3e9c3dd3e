import { Counter } from '@herald/observability';
import type { Registry } from '@herald/observability';

export interface IngestMetrics {
  accepted: Counter<'priority'>;
  duplicates: Counter<'priority'>;
  rejected: Counter<'reason'>;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  return {
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
}
