/**
 * bench/cluster-routing: what it costs, on a local 3-master Redis Cluster, to route the commands
 * ioredis cannot find a key in (XGROUP, XINFO: a subcommand comes first), three ways:
 *
 * - alone, as ioredis sends them once they are in autoPipeliningIgnoredCommands: to a random
 *   master, which answers MOVED two times in three (an extra round trip, and a slot-table refresh);
 * - in a pipeline behind an EXISTS of the key (callInSlotOf, what Herald does);
 * - and what the simplest fix would cost instead: auto-pipelining off for the whole connection,
 *   measured on the hot path's commands (concurrent GETs and small scripts).
 *
 *   node --conditions=development --import tsx bench/src/cluster-routing.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisCluster } from '@herald/embedded-redis';
import { callInSlotOf, closeRedis, createRedis, isCluster, whenReady } from '@herald/redis';
import type { RedisClient } from '@herald/redis';

const ROUNDS = 2000;
const CONCURRENT = 50_000;

async function timed(what: string, run: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`${what}: ${ms.toFixed(0)} ms`);
  return ms;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-routing-'));
  const cluster = await startRedisCluster({ dir, masters: 3, appendOnly: false });
  const clients: RedisClient[] = [];
  const client = (autoPipelining: boolean) => {
    const c = createRedis({ url: cluster.url, autoPipelining });
    clients.push(c);
    return c;
  };
  try {
    const piped = client(true);
    await whenReady(piped, 10_000);
    const streams = Array.from({ length: 12 }, (_, i) => `bench:{p:high:${i}}:events`);
    for (const stream of streams) await callInSlotOf(piped, stream, 'XGROUP', 'CREATE', stream, 'router', '0', 'MKSTREAM');
    let refreshes = 0;
    if (isCluster(piped)) piped.on('refresh', () => refreshes++);

    const alone = await timed(`${ROUNDS} XINFO GROUPS sent alone (random master, MOVED, redirected)`, async () => {
      for (let i = 0; i < ROUNDS; i++) await piped.xinfo('GROUPS', streams[i % streams.length]!);
    });
    console.log(`  slot-table refreshes meanwhile: ${refreshes}`);
    const routed = await timed(`${ROUNDS} XINFO GROUPS behind an EXISTS of the key (callInSlotOf)`, async () => {
      for (let i = 0; i < ROUNDS; i++) await callInSlotOf(piped, streams[i % streams.length]!, 'XINFO', 'GROUPS', streams[i % streams.length]!);
    });
    console.log(`  per command: alone ${((alone / ROUNDS) * 1000).toFixed(0)} µs, routed ${((routed / ROUNDS) * 1000).toFixed(0)} µs`);

    const plain = client(false);
    await whenReady(plain, 10_000);
    const keys = Array.from({ length: 1000 }, (_, i) => `bench:{a:acct-${i}}:devices`);
    const script = "return redis.call('HGET', KEYS[1], 'x')";
    for (const [name, c] of [
      ['auto-pipelined', piped],
      ['not auto-pipelined', plain],
    ] as const) {
      const getMs = await timed(`${CONCURRENT} concurrent HGETs over 1000 accounts, ${name}`, () =>
        Promise.all(Array.from({ length: CONCURRENT }, (_, i) => c.hget(keys[i % keys.length]!, 'x'))),
      );
      const evalMs = await timed(`${CONCURRENT} concurrent small scripts, ${name}`, () =>
        Promise.all(Array.from({ length: CONCURRENT }, (_, i) => c.eval(script, 1, keys[i % keys.length]!))),
      );
      console.log(
        `  ${name}: ${Math.round(CONCURRENT / (getMs / 1000)).toLocaleString('en')} HGET/s, ${Math.round(CONCURRENT / (evalMs / 1000)).toLocaleString('en')} scripts/s`,
      );
    }
  } finally {
    await Promise.all(clients.map((c) => closeRedis(c)));
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
