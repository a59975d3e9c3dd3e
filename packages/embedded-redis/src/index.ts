export { ensureRedisServer, findRedisServer, RedisServerMissingError } from './redis-server-binary.js';
export { freePort, startRedisServer } from './redis-server-process.js';
export type { RedisServerOptions, RunningRedisServer } from './redis-server-process.js';
