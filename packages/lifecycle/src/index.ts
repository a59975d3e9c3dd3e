export { checkRedis, runMain, stopOnSignals } from './lifecycle.js';
export type { GracefulStopOptions } from './lifecycle.js';
