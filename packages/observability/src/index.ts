export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { Counter, Gauge, Histogram, METRIC_PREFIX, Registry, createMetricsRegistry, initCounterSeries } from './metrics.js';
