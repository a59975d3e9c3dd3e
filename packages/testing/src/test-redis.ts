import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '@herald/embedded-redis';
import type { RunningRedisServer } from '@herald/embedded-redis';
import { closeRedis, createRedis } from '@herald/redis';
import type { RedisClient } from '@herald/redis';

let shared: Promise<RunningRedisServer> | undefined;
let sharedDir: string | undefined;

/**
 * The throwaway `redis-server` of this test run: started on first use on a free port with its
 * own temp dir, stopped by the mocha global teardown. Tests isolate themselves by key prefix.
 */
export function testRedisServer(): Promise<RunningRedisServer> {
  if (shared === undefined) {
    sharedDir = mkdtempSync(join(tmpdir(), 'herald-test-redis-'));
    shared = startRedisServer({ dir: sharedDir, appendOnly: false, log: (line) => console.error(line) });
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

/** Deletes every key under a prefix (plain keys and the hash-tagged BullMQ ones). */
export async function deleteKeysWithPrefix(client: RedisClient, prefix: string): Promise<void> {
  for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  }
}

export interface TestRedis {
  url: string;
  /** Fresh for each test. */
  prefix: string;
  /** A connection for the test's own checks; closed after the test. */
  client: RedisClient;
}

/**
 * Registers mocha hooks giving each test of the suite a real Redis, its own prefix and a
 * client; the test's keys are deleted after it. Read the fields inside tests, not at load time.
 */
export function useTestRedis(): TestRedis {
  const context = {} as TestRedis;
  before(async function () {
    this.timeout(120_000);
    context.url = (await testRedisServer()).url;
  });
  beforeEach(() => {
    context.prefix = uniquePrefix();
    context.client = createRedis({ url: context.url, name: 'herald-test' });
  });
  afterEach(async () => {
    await deleteKeysWithPrefix(context.client, context.prefix);
    await closeRedis(context.client);
  });
  return context;
}
