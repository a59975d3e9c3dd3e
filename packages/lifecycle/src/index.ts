export { StartError, checkRedis, describeListenError, listenOn, runMain, stopOnSignals } from './lifecycle.js';
export type { GracefulStopOptions, RedisConnectionState } from './lifecycle.js';
