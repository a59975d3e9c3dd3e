import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Counter } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every Herald metric name starts with this. */
export const METRIC_PREFIX = 'herald_';

/**
 * prom-client's default gauges named like counters: each is the sum of the same gauge without
 * `_total` (`herald_nodejs_active_handles{type}`), and a gauge ending in `_total` misleads
 * Prometheus tooling (`rate()` on it, lint warnings). They are left out; sum the labelled ones.
 */
const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** A registry for one app, with the process metrics (`herald_process_*`, `herald_nodejs_*`). */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(`${METRIC_PREFIX}${name}`);
  return registry;
}

/**
 * Creates the series of every combination of the given label values at 0, so they exist from
 * the first scrape: a labelled counter otherwise has no series until its first increment, and
 * `rate()` or an alert on it sees nothing rather than 0. Values not listed still appear when used.
 */
export function initCounterSeries<T extends string>(counter: Counter<T>, values: { readonly [K in T]: readonly string[] }): void {
  let combinations: Record<string, string>[] = [{}];
  for (const [name, list] of Object.entries<readonly string[]>(values)) {
    combinations = combinations.flatMap((labels) => list.map((value) => ({ ...labels, [name]: value })));
  }
  for (const labels of combinations) counter.inc(labels as Partial<Record<T, string>>, 0);
}
