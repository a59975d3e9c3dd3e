export { closeRedis, createRedis, isReplyError, unixSocketAddress } from './connection.js';
export type { ConnectionErrorLogger, RedisClient, RedisConnectionOptions } from './connection.js';
export { assertWellFormedId, createKeys, escapeId } from './keys.js';
export type { KeyBuilder } from './keys.js';
export { RedisScript } from './script.js';
export { RedisTimeBuckets } from './time-buckets.js';
