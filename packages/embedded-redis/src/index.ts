export { ensureRedisServer, findRedisServer, RedisServerMissingError } from './redis-server-binary.js';
export { RedisClusterNode, startRedisCluster } from './redis-cluster.js';
export type { RedisClusterOptions, RunningRedisCluster } from './redis-cluster.js';
export { freePort, startRedisServer } from './redis-server-process.js';
export type { RedisServerOptions, RunningRedisServer } from './redis-server-process.js';
