import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisCluster, startRedisServer } from '@herald/embedded-redis';
import type { RunningRedisCluster } from '@herald/embedded-redis';
import { closeRedis, createRedis, keySlot, masters, nodeAddress, unlinkKeys, whenReady } from '@herald/redis';
import type { RedisClient } from '@herald/redis';

/**
 * The Redis topologies the integration and end-to-end suites run against: one `redis-server`
 * (the default), or a local 3-master Redis Cluster (`HERALD_TEST_REDIS=cluster`). The same
 * specs run on both (`npm test` runs them twice); a spec reads the topology only to assert
 * what differs, e.g. that its keys spanned several masters.
 */
export type TestTopology = 'standalone' | 'cluster';

/** The topology of this test run: `HERALD_TEST_REDIS` (`standalone` or `cluster`), standalone when unset. */
export function testTopology(): TestTopology {
  const value = process.env['HERALD_TEST_REDIS'] ?? '';
  if (value === '' || value === 'standalone') return 'standalone';
  if (value === 'cluster') return 'cluster';
  throw new Error(`HERALD_TEST_REDIS must be standalone or cluster, not "${value}"`);
}

/** The run's throwaway Redis: one server or a Cluster. */
export interface TestRedisServer {
  topology: TestTopology;
  /** `redis://127.0.0.1:<port>` or `redis+cluster://127.0.0.1:<port>` (a seed node). */
  url: string;
  /** One server's Unix socket (`unix://…/redis.sock`); absent on a Cluster. */
  socketUrl?: string;
  /** The Cluster's processes (cluster topology only). */
  cluster?: RunningRedisCluster;
  stop(): Promise<void>;
}

let shared: Promise<TestRedisServer> | undefined;
let sharedDir: string | undefined;

/**
 * The throwaway Redis of this test run, started on first use (on free ports, in its own temp
 * dir) and stopped by the mocha global teardown: one `redis-server`, or with
 * `HERALD_TEST_REDIS=cluster` a 3-master Cluster (`redis-server --cluster-enabled yes` ×3 joined
 * by `redis-cli --cluster create`). Tests isolate themselves by key prefix.
 */
export function testRedisServer(): Promise<TestRedisServer> {
  if (shared === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'herald-test-redis-'));
    sharedDir = dir;
    const log = (line: string) => console.error(line);
    shared =
      testTopology() === 'cluster'
        ? startRedisCluster({ dir, masters: 3, appendOnly: false, log }).then((cluster) => ({
            topology: 'cluster' as const,
            url: cluster.url,
            cluster,
            stop: () => cluster.stop(),
          }))
        : startRedisServer({ dir, appendOnly: false, log }).then((server) => ({
            topology: 'standalone' as const,
            url: server.url,
            ...(server.socketUrl === undefined ? {} : { socketUrl: server.socketUrl }),
            stop: () => server.stop(),
          }));
  }
  return shared;
}

export async function stopTestRedisServer(): Promise<void> {
  if (shared === undefined) return;
  const server = await shared.catch(() => undefined);
  shared = undefined;
  await server?.stop();
  if (sharedDir !== undefined) rmSync(sharedDir, { recursive: true, force: true });
}

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `t-${randomUUID().slice(0, 12)}`;
}

/** Keys under a prefix, found on every master: master address → keys. */
export async function keysByMaster(client: RedisClient, prefix: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const node of masters(client)) {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length > 0) found.set(nodeAddress(node), keys);
  }
  return found;
}

/** Where a test's keys were: the masters that held some, and how many slots (BullMQ queues' `meta` keys aside). */
export interface KeySpread {
  masters: string[];
  slots: number;
}

/**
 * Deletes every key under a prefix, on every master (one UNLINK per slot). Returns where they
 * were, so a test can tell its keys spanned several masters.
 */
export async function deleteKeysWithPrefix(client: RedisClient, prefix: string): Promise<KeySpread> {
  const byMaster = await keysByMaster(client, prefix);
  const keys = [...byMaster.values()].flat();
  await unlinkKeys(client, keys);
  // A BullMQ queue's `meta` key is written when a Queue object starts, whatever the test does.
  const written = [...byMaster].filter(([, held]) => held.some((key) => !key.endsWith(':meta')));
  return { masters: written.map(([master]) => master), slots: new Set(keys.filter((key) => !key.endsWith(':meta')).map(keySlot)).size };
}

export interface TestRedis {
  topology: TestTopology;
  url: string;
  /** Fresh for each test. */
  prefix: string;
  /** A connection for the test's own checks; closed after the test. */
  client: RedisClient;
  /**
   * The masters holding the test's keys now (one on a standalone run): for a test's own
   * assertion that its keys spanned several masters of a Cluster.
   */
  masters(): Promise<string[]>;
}

/**
 * Registers mocha hooks giving each test of the suite a real Redis (one server, or a Cluster on
 * a cluster run), its own prefix and a client; the test's keys are deleted after it. On a
 * Cluster, a test that wrote keys of several slots fails when they all landed on one master: it
 * would pass by luck, never having crossed masters (a test of one slot has nothing to cross).
 * Read the fields inside tests, not at load time.
 */
export function useTestRedis(): TestRedis {
  const context = {} as TestRedis;
  before(async function () {
    this.timeout(120_000);
    const server = await testRedisServer();
    context.url = server.url;
    context.topology = server.topology;
  });
  beforeEach(async () => {
    context.prefix = uniquePrefix();
    const client = createRedis({ url: context.url, name: 'herald-test' });
    // Ready before the test: a Cluster client knows its masters only once it has the slots.
    await whenReady(client, 10_000);
    context.client = client;
    context.masters = async () => [...(await keysByMaster(client, context.prefix)).keys()];
  });
  afterEach(async function () {
    const held = await deleteKeysWithPrefix(context.client, context.prefix);
    await closeRedis(context.client);
    if (this.currentTest?.state === 'passed' && context.topology === 'cluster' && held.slots > 1 && held.masters.length === 1) {
      throw new Error(
        `"${this.currentTest.fullTitle()}" wrote keys of ${held.slots} slots, all on one Redis Cluster master (${held.masters[0]}): ` +
          'use accounts or partitions on several masters, so the test proves Herald works across them',
      );
    }
  });
  return context;
}

/** CLIENT LIST of every master, one line per connection (a Cluster client has a connection per master under one name). */
export async function clientList(client: RedisClient): Promise<string[]> {
  const lists = await Promise.all(masters(client).map(async (node) => (await node.client('LIST')) as string));
  return lists.flatMap((list) => list.split('\n')).filter((line) => line.length > 0);
}
