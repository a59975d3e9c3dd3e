import type { Redis } from 'ioredis';
import { isCluster, masters, nodeAddress, whenReady } from './cluster.js';
import type { RedisClient } from './connection.js';

/** Redis is reachable but not set up as Herald needs: the message says what to change. */
export class RedisSetupError extends Error {
  override readonly name = 'RedisSetupError';
}

export interface RedisSetupReport {
  mode: 'standalone' | 'cluster';
  /** CLUSTER INFO's `cluster_state` (`ok` or `fail`); undefined for one Redis. */
  clusterState: string | undefined;
  /** Each master: its address, `maxmemory-policy` and Redis version. */
  masters: { node: string; maxmemoryPolicy: string; version: string }[];
}

/** `name:value` lines of INFO / CLUSTER INFO. */
function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

async function describeMaster(node: Redis): Promise<RedisSetupReport['masters'][number]> {
  // INFO, not CONFIG GET: managed Redis services often rename or refuse CONFIG.
  const info = infoFields(`${await node.info('memory')}\n${await node.info('server')}`);
  return { node: nodeAddress(node), maxmemoryPolicy: info.get('maxmemory_policy') ?? 'unknown', version: info.get('redis_version') ?? 'unknown' };
}

/**
 * The start-up check every app runs: waits for Redis (up to `timeoutMs`), reports one Redis or a
 * Cluster and its `cluster_state`, and throws a RedisSetupError when a master does not run with
 * `maxmemory-policy noeviction` (BullMQ requires it; an evicted stream entry, idempotency set or
 * history is a lost or duplicated notification) or is older than Redis 7 (sharded pub/sub).
 */
export async function checkRedisSetup(client: RedisClient, { timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<RedisSetupReport> {
  await whenReady(client, timeoutMs);
  const cluster = isCluster(client);
  const nodes = masters(client);
  const report: RedisSetupReport = {
    mode: cluster ? 'cluster' : 'standalone',
    clusterState: cluster ? infoFields(String(await client.cluster('INFO'))).get('cluster_state') : undefined,
    masters: await Promise.all(nodes.map(describeMaster)),
  };
  const problems: string[] = [];
  for (const master of report.masters) {
    if (master.maxmemoryPolicy !== 'noeviction') {
      problems.push(
        `${master.node} runs with maxmemory-policy ${master.maxmemoryPolicy}; Herald needs noeviction (BullMQ requires it, and an evicted key is a lost or duplicated notification)`,
      );
    }
    const major = Number(master.version.split('.')[0]);
    if (!(major >= 7)) problems.push(`${master.node} runs Redis ${master.version}; Herald needs Redis 7 or newer (sharded pub/sub)`);
  }
  if (problems.length > 0) {
    const where = cluster ? 'every master of the Redis Cluster' : 'Redis';
    throw new RedisSetupError(
      `Redis is not set up for Herald:\n${problems.map((p) => `  ${p}`).join('\n')}\nSet \`maxmemory-policy noeviction\` on ${where} (redis.conf or CONFIG SET), then start again.`,
    );
  }
  return report;
}
