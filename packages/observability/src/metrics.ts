import { Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every Herald metric name starts with this. */
export const METRIC_PREFIX = 'herald_';

/** A registry for one app, with the process metrics (`herald_process_*`, `herald_nodejs_*`). */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
