export { StartError, checkRedis, describeListenError, listenOn, runMain, stopOnSignals } from './lifecycle.js';
export type { GracefulStopOptions, RedisConnectionState } from './lifecycle.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { Counter, Gauge, Histogram, METRIC_PREFIX, Registry, createMetricsRegistry, initCounterSeries } from './metrics.js';
