/**
 * bench/history: what the history append costs inside Redis (its script's µs per event, from
 * INFO commandstats), next to a baseline measured in the same run against the same Redis: a
 * bare `XADD … MAXLEN = <max>` per event (no idempotency, no trimmed marker, no age trim).
 *
 *   npm run bench:history [-- --accounts 200 --rounds 200]
 *
 * Histories are first filled to their maximum length, so every append also trims: the steady
 * state of an active account. The router appends one call per account per batch, so the
 * events per call is the batch's events per account: 1 and 5 are measured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AcceptedEvent } from '@herald/contracts';
import { startRedisServer } from '@herald/embedded-redis';
import { History } from '@herald/history';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import type { RedisClient } from '@herald/redis';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '200' },
    'max-length': { type: 'string', default: '1000' },
  },
});
const accounts = Number(values.accounts);
const rounds = Number(values.rounds);
const maxLength = Number(values['max-length']);

let sequence = 0;
function entry(accountId: string): AcceptedEvent & { devices: string[] } {
  const now = Date.now();
  sequence++;
  return {
    id: `e${sequence}`,
    type: 'mylist.updated',
    accountId,
    payload: { titleId: 'title-80057281', n: sequence },
    createdAt: now,
    acceptedAt: now,
    priority: 'medium',
    devices: [`web-${accountId}`],
  };
}

/** Redis's own time in one command since the last reset, in µs. */
async function usecOf(redis: RedisClient, command: string): Promise<number> {
  const line = (await redis.info('commandstats')).split('\n').find((l) => l.startsWith(`cmdstat_${command}:`));
  return Number(/usec=(\d+)/.exec(line ?? '')?.[1] ?? 0);
}

/** Appends `perCall` events per account per round, one call per account, the accounts in parallel. */
async function appendRounds(
  append: (accountId: string, events: ReturnType<typeof entry>[]) => Promise<unknown>,
  perCall: number,
  count: number,
): Promise<void> {
  for (let round = 0; round < count; round++) {
    await Promise.all(
      Array.from({ length: accounts }, (_, a) =>
        append(
          `acct-${a}`,
          Array.from({ length: perCall }, () => entry(`acct-${a}`)),
        ),
      ),
    );
  }
}

const dir = mkdtempSync(join(tmpdir(), 'herald-bench-history-'));
const server = await startRedisServer({ dir, appendOnly: false });
const redis = createRedis({ url: server.socketUrl ?? server.url, name: 'bench-history' });
try {
  const rows: string[] = [];
  for (const perCall of [1, 5]) {
    await redis.flushall();
    const history = new History({ redis, keys: createKeys('herald'), maxLength });
    const script = (accountId: string, events: ReturnType<typeof entry>[]) => history.append(accountId, events);
    const bare = (accountId: string, events: ReturnType<typeof entry>[]) => {
      const pipeline = redis.pipeline();
      for (const event of events) pipeline.xadd(`bench:{${accountId}}:history`, 'MAXLEN', String(maxLength), '*', 'e', JSON.stringify(event));
      return pipeline.exec();
    };
    const measured = Math.max(1, Math.round(rounds / perCall));
    const fill = Math.ceil((maxLength * 1.2) / perCall);
    await appendRounds(script, perCall, fill);
    await appendRounds(bare, perCall, fill);
    await redis.config('RESETSTAT');
    await appendRounds(script, perCall, measured);
    const scriptUs = (await usecOf(redis, 'evalsha')) / (measured * accounts * perCall);
    await redis.config('RESETSTAT');
    await appendRounds(bare, perCall, measured);
    const bareUs = (await usecOf(redis, 'xadd')) / (measured * accounts * perCall);
    rows.push(`| ${perCall} | ${scriptUs.toFixed(2)} | ${bareUs.toFixed(2)} | ${(scriptUs / bareUs).toFixed(1)}x |`);
  }
  console.log(`\nHistory append benchmark, ${accounts} accounts at ${maxLength} entries, node ${process.version}, ${new Date().toISOString()}\n`);
  console.log('| events per call | history script µs/event (Redis) | baseline: bare XADD MAXLEN µs/event | ratio |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
} finally {
  await closeRedis(redis);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
