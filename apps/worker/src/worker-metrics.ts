import { PRIORITIES, RoutingVerdictSchema } from '@herald/contracts';
import { Counter, Histogram, initCounterSeries } from '@herald/runtime';
import type { Registry } from '@herald/runtime';

export interface WorkerMetrics {
  gateOutcomes: Counter<'priority' | 'verdict'>;
  entriesRouted: Counter<'priority'>;
  routeFailures: Counter<'priority'>;
  deadLettered: Counter<'priority' | 'reason'>;
  deliveries: Counter<'platform' | 'outcome'>;
  deliveryLatency: Histogram<'priority' | 'platform'>;
  pushDeadTokens: Counter<'platform' | 'provider'>;
}

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const metrics: WorkerMetrics = {
    gateOutcomes: new Counter({
      name: 'herald_gate_outcomes_total',
      help: 'Events through the router gates, by priority and verdict (stale, duplicate, no_targets, routed)',
      labelNames: ['priority', 'verdict'],
      registers: [registry],
    }),
    entriesRouted: new Counter({
      name: 'herald_router_entries_total',
      help: 'Priority stream entries routed and acknowledged',
      labelNames: ['priority'],
      registers: [registry],
    }),
    routeFailures: new Counter({
      name: 'herald_router_failures_total',
      help: 'Router batches that failed and were left pending for retry',
      labelNames: ['priority'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'herald_dead_letters_total',
      help: 'Stream entries moved to the dead letters, by reason',
      labelNames: ['priority', 'reason'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'herald_deliveries_total',
      help: "Notifications emitted (web, tv) or push signals (ios, android), by outcome: emitted, sent, failed (retried), dead_token, no_token, coalesced (held for the window's trailing signal)",
      labelNames: ['platform', 'outcome'],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: 'herald_delivery_latency_seconds',
      help: 'From acceptance by ingest to emit (web, tv) or push signal (ios, android)',
      labelNames: ['priority', 'platform'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    pushDeadTokens: new Counter({
      name: 'herald_push_dead_tokens_total',
      help: 'Push tokens a provider reported dead (APNs 410 / BadDeviceToken, FCM UNREGISTERED), dropped from their devices',
      labelNames: ['platform', 'provider'],
      registers: [registry],
    }),
  };
  // Every known series at 0 from the first scrape.
  initCounterSeries(metrics.gateOutcomes, { priority: PRIORITIES, verdict: RoutingVerdictSchema.options });
  initCounterSeries(metrics.entriesRouted, { priority: PRIORITIES });
  initCounterSeries(metrics.routeFailures, { priority: PRIORITIES });
  initCounterSeries(metrics.deadLettered, { priority: PRIORITIES, reason: ['malformed', 'max_deliveries'] });
  initCounterSeries(metrics.deliveries, { platform: ['web', 'tv'], outcome: ['emitted'] });
  initCounterSeries(metrics.deliveries, { platform: ['ios', 'android'], outcome: ['sent', 'failed'] });
  return metrics;
}
