/**
 * bench/ingest: accepted events/s through POST /v1/events and POST /v1/events/batch, next to
 * a baseline measured in the same run against the same Redis: raw pipelined XADD from Node.
 *
 *   npm run bench:ingest [-- --duration 10 --connections 64]
 *
 * Everything runs on this machine: a fresh redis-server (AOF on, as in production), the ingest
 * app as its own process, and autocannon as the load generator in this process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { freePort, startRedisServer } from '@herald/embedded-redis';
import { APPS, stopProcesses, waitUntilReady } from '@herald/launcher';
import { cpuProfileFlags, processCpuSeconds, runTs } from './processes.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    'batch-connections': { type: 'string', default: '8' },
    only: { type: 'string' },
  },
});
const duration = Number(values.duration);
const PREFIX = 'herald';
/** Ingest's port: a free one, as other copies of Herald may run here. */
const PORT = await freePort();
const KEY = 'dev-service-key';

const payload = { titleId: 'title-80057281', listId: 'my-list', action: 'add', position: 12 };
const eventJson = (id: string, account: number) =>
  `{"id":"${id}","type":"mylist.updated","accountId":"acct-${account}","profileId":"p1","payload":${JSON.stringify(payload)}}`;

/** Events accepted so far: the sum of the partitions' backlog counters (nothing consumes here). */
async function totalStreamed(redis: Redis): Promise<number> {
  const keys = await redis.keys(`${PREFIX}:{p:*}:backlog`);
  const counts = keys.length === 0 ? [] : await redis.mget(...keys);
  return counts.reduce((sum, count) => sum + Number(count ?? 0), 0);
}

/** Raw pipelined XADD, one entry per event, 4 pipelines of 1000 in flight, same event JSON. */
async function baseline(redis: Redis): Promise<number> {
  const stream = 'bench:{baseline}:events';
  const started = Date.now();
  let written = 0;
  let n = 0;
  const writer = async () => {
    while (Date.now() - started < duration * 1000) {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 1000; i++) {
        n++;
        pipeline.xadd(stream, 'MAXLEN', '~', '2000000', '*', 'e', eventJson(`base-${n}`, n % 10_000));
      }
      await pipeline.exec();
      written += 1000;
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
  return written / ((Date.now() - started) / 1000);
}

/** CPU seconds used so far by ingest (from /proc), Redis (INFO, children included) and this process. */
async function cpuSeconds(redis: Redis, ingestPid: number): Promise<{ ingest: number; redis: number; loadgen: number }> {
  const info = await redis.info('cpu');
  const stat = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  const own = process.cpuUsage();
  return {
    ingest: processCpuSeconds(ingestPid),
    redis: stat('used_cpu_user') + stat('used_cpu_sys') + stat('used_cpu_user_children') + stat('used_cpu_sys_children'),
    loadgen: (own.user + own.system) / 1e6,
  };
}

async function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const server = await startRedisServer({ dir, appendOnly: process.env['HERALD_BENCH_AOF'] !== '0' });
  const redis = new Redis(server.url);
  const ingestApp = APPS.find((app) => app.name === 'ingest')!;
  const ingest = runTs(
    ingestApp.main,
    // No worker drains the streams here and the CPU is saturated on purpose: load shedding would
    // (rightly) refuse the events whose accept capacity this bench measures.
    { REDIS_URL: server.url, INGEST_PORT: String(PORT), HERALD_LOG_LEVEL: 'error', HERALD_BACKLOG_LIMIT_MEDIUM: '100000000', HERALD_SHEDDING: 'false' },
    [...cpuProfileFlags('ingest'), ...ingestApp.nodeFlags],
  );
  try {
    await waitUntilReady(`http://127.0.0.1:${PORT}/readyz`, { child: ingest });
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const wanted = (name: string) => values.only === undefined || values.only.split(',').includes(name);
    const rows: string[] = [];
    const summary: string[] = [];
    let baselineRate: number | undefined;

    /** Each run starts on an empty Redis with no AOF rewrite in flight, so runs don't tax each other. */
    const resetRedis = async () => {
      await redis.flushall();
      await redis.bgrewriteaof().catch(() => undefined);
      while (/aof_rewrite_in_progress:1|aof_rewrite_scheduled:1/.test(await redis.info('persistence'))) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    if (wanted('baseline')) {
      await resetRedis();
      console.log(`baseline: raw pipelined XADD (4 pipelines of 1000 in flight) for ${duration}s ...`);
      baselineRate = await baseline(redis);
      rows.push(`| baseline: pipelined XADD | ${Math.round(baselineRate).toLocaleString('en')} | - | - | - | - |`);
    }
    const row = async (name: string, result: autocannon.Result, accepted: number, cpuBefore: Awaited<ReturnType<typeof cpuSeconds>>) => {
      const cpu = await cpuSeconds(redis, ingest.pid!);
      const per1000 = (key: keyof typeof cpu) => (((cpu[key] - cpuBefore[key]) / accepted) * 1e6).toFixed(0);
      return `| ${name} | ${Math.round(accepted / duration).toLocaleString('en')} | ${result.non2xx} | ${result.latency.p50} | ${result.latency.p99} | ${per1000('ingest')} / ${per1000('redis')} / ${per1000('loadgen')} |`;
    };

    if (wanted('single')) {
      await resetRedis();
      console.log(`single: POST /v1/events, ${values.connections} connections, ${duration}s ...`);
      let single = 0;
      const before = await totalStreamed(redis);
      const cpuBefore = await cpuSeconds(redis, ingest.pid!);
      const result = await run({
        url: `http://127.0.0.1:${PORT}/v1/events`,
        method: 'POST',
        headers,
        connections: Number(values.connections),
        duration,
        requests: [{ setupRequest: (req) => ({ ...req, body: eventJson(`s-${single++}`, single % 10_000) }) }],
      });
      rows.push(await row('POST /v1/events (single)', result, (await totalStreamed(redis)) - before, cpuBefore));
      summary.push(`single: ${result.requests.average.toFixed(0)} requests/s`);
    }

    if (wanted('batch')) {
      await resetRedis();
      console.log(`batch: POST /v1/events/batch (1000 events), ${values['batch-connections']} connections, ${duration}s ...`);
      // Bodies are made up front so the load generator spends its CPU on sending, not on JSON.
      const bodies = Array.from({ length: Math.ceil(duration * 250) }, (_, n) => {
        const events = Array.from({ length: 1000 }, (_, i) => eventJson(`b-${n}-${i}`, (n * 1000 + i) % 10_000));
        return `{"events":[${events.join(',')}]}`;
      });
      let batch = 0;
      const before = await totalStreamed(redis);
      const cpuBefore = await cpuSeconds(redis, ingest.pid!);
      const result = await run({
        url: `http://127.0.0.1:${PORT}/v1/events/batch`,
        method: 'POST',
        headers,
        connections: Number(values['batch-connections']),
        duration,
        requests: [
          {
            // Past the prepared bodies, ids repeat and come back as duplicates (not counted as accepted).
            setupRequest: (req) => ({ ...req, body: bodies[batch++ % bodies.length]! }),
          },
        ],
      });
      const accepted = (await totalStreamed(redis)) - before;
      rows.push(await row('POST /v1/events/batch (1000 each)', result, accepted, cpuBefore));
      if (baselineRate !== undefined) summary.push(`batch: ${(accepted / duration / baselineRate).toFixed(2)}x the XADD baseline`);
    }

    console.log(`\nIngest benchmark, ${duration}s per run, node ${process.version}, ${new Date().toISOString()}\n`);
    console.log('| run | accepted events/s | non-2xx responses | p50 ms | p99 ms | CPU µs per event: ingest / redis / load generator |');
    console.log('| --- | ---: | ---: | ---: | ---: | --- |');
    for (const line of rows) console.log(line);
    console.log(`\n${summary.join('; ')}`);
    const cpu = await redis.info('cpu');
    const stats = (await redis.info('commandstats')).split('\n').filter((line) => /cmdstat_(evalsha|xadd)/.test(line));
    console.log(`redis: ${/used_cpu_user:([\d.]+)/.exec(cpu)?.[1]}s user CPU; ${stats.join(' ')}`);
  } finally {
    await stopProcesses([ingest], 10_000);
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
