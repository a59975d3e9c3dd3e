export { deleteKeysWithPrefix, stopTestRedisServer, testRedisServer, uniquePrefix, useTestRedis } from './test-redis.js';
export type { TestRedis } from './test-redis.js';
