export {
  callInSlotOf,
  groupBySlot,
  isCluster,
  keySlot,
  masters,
  nodeAddress,
  pingMasters,
  ReplicationTimeoutError,
  scanKeys,
  serverOf,
  ssubscribeAll,
  sunsubscribeAll,
  unlinkKeys,
  waitForReplicas,
  watchSubscriptions,
  whenReady,
} from './cluster.js';
export type { ReplicaAcks, SubscriptionWatch } from './cluster.js';
export {
  CLUSTER_UNPIPELINED_COMMANDS,
  closeRedis,
  createRedis,
  isClusterUrl,
  isReplyError,
  parseClusterUrl,
  parseHostPort,
  unixSocketAddress,
} from './connection.js';
export type { ClusterTarget, ConnectionErrorLogger, RedisClient, RedisConnectionOptions } from './connection.js';
export { assertWellFormedId, createKeys, escapeId } from './keys.js';
export type { KeyBuilder } from './keys.js';
export { RedisScript } from './script.js';
export { checkRedisSetup, RedisSetupError } from './setup-check.js';
export type { RedisSetupReport } from './setup-check.js';
export { RedisTimeBuckets } from './time-buckets.js';
