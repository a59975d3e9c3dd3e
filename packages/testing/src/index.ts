export {
  clientList,
  deleteKeysWithPrefix,
  keysByMaster,
  stopTestRedisServer,
  testRedisServer,
  testTopology,
  uniquePrefix,
  useTestRedis,
} from './test-redis.js';
export type { KeySpread, TestRedis, TestRedisServer, TestTopology } from './test-redis.js';
export { waitFor } from './wait-for.js';
export type { WaitForOptions } from './wait-for.js';
