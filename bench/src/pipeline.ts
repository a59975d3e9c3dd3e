/**
 * bench/pipeline: end to end, events posted to ingest in batches → routed by the worker →
 * emitted through the Socket.IO Redis adapter → received by connected socket.io-client
 * devices. Reports notifications/s and submit→receive latency per priority, next to a
 * same-run baseline (a bare emitter through the gateway's sharded Socket.IO adapter → the same
 * clients), and priority isolation: high-priority p99 while a low-priority flood saturates the
 * system.
 *
 *   npm run bench:pipeline [-- --duration 10 --devices 200 --cluster]
 *
 * Runs on this machine only: a fresh redis-server (with --cluster: a local Redis Cluster of 3
 * masters, each master's share of the commands and CPU printed), ingest, one worker process per
 * priority group (high | medium,low, as RENO scales them apart), the gateway, and the devices
 * and load generator in this process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { EventTraceSchema, deviceRoom } from '@herald/contracts';
import type { Notification } from '@herald/contracts';
import { DeviceRegistry, DeviceTokens } from '@herald/devices';
import { startRedisCluster, startRedisServer } from '@herald/embedded-redis';
import { closeRedis, createKeys, createRedis, masters, nodeAddress, scanKeys, whenReady } from '@herald/redis';
import { stopProcesses, waitUntilReady } from '@herald/launcher';
import { cpuProfileFlags, percentile, processCpuSeconds, root, runTs } from './processes.js';
import type { ProbeSample } from './probe.js';
import { ShardedEmitter } from './sharded-emitter.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    devices: { type: 'string', default: '200' },
    'high-rate': { type: 'string', default: '50' },
    /** Comma-separated runs to do: baseline, pipeline, isolation (default: all three). */
    only: { type: 'string', default: 'baseline,pipeline,isolation' },
    /** On a local Redis Cluster of 3 masters instead of one redis-server. */
    cluster: { type: 'boolean', default: false },
  },
});
const runs = new Set(values.only.split(','));
for (const run of runs) if (!['baseline', 'pipeline', 'isolation'].includes(run)) throw new Error(`--only: unknown run ${run}`);
const duration = Number(values.duration) * 1000;
const deviceCount = Number(values.devices);
const KEY = 'dev-service-key';
const INGEST = 3191;
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const DEVICE_SECRET = 'bench-device-secret-bench-device-secret';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Received {
  count: number;
  latencies: Map<string, number[]>;
  /** When the last notification arrived (epoch ms). */
  lastAt: number;
}

function fresh(): Received {
  return { count: 0, latencies: new Map(), lastAt: 0 };
}

/** One redis-server, or a local Cluster of 3 masters: the URL the apps take and each master's process. */
async function startRedis(dir: string): Promise<{ url: string; appsUrl: string; pids: number[]; stop(): Promise<void> }> {
  // AOF on, as npm start runs it (HERALD_BENCH_AOF=0: off, to see what persistence costs).
  const appendOnly = process.env['HERALD_BENCH_AOF'] !== '0';
  if (values.cluster) {
    const cluster = await startRedisCluster({ dir, masters: 3, appendOnly });
    return { url: cluster.url, appsUrl: cluster.url, pids: cluster.nodes.map((node) => node.pid ?? -1), stop: () => cluster.stop() };
  }
  const server = await startRedisServer({ dir, appendOnly });
  // The apps reach Redis as npm start has them do: over its Unix socket (HERALD_BENCH_TCP=1: loopback TCP).
  const appsUrl = process.env['HERALD_BENCH_TCP'] === '1' ? server.url : (server.socketUrl ?? server.url);
  return { url: server.url, appsUrl, pids: [server.pid], stop: () => server.stop() };
}

/** Sums of INFO fields over the masters, and each master's own: commands processed and CPU seconds. */
async function masterLoad(nodes: Redis[]): Promise<{ node: string; commands: number; cpu: number }[]> {
  return Promise.all(
    nodes.map(async (node) => {
      const info = `${await node.info('stats')}\n${await node.info('cpu')}`;
      const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
      return { node: nodeAddress(node), commands: field('total_commands_processed'), cpu: field('used_cpu_user') + field('used_cpu_sys') };
    }),
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-pipeline-'));
  const server = await startRedis(dir);
  const redis = createRedis({ url: server.url, autoPipelining: true });
  await whenReady(redis, 10_000);
  const nodes = masters(redis);
  // Redis settings to try, e.g. HERALD_BENCH_REDIS_CONFIG='auto-aof-rewrite-percentage 100 rdbcompression no'.
  const redisSettings = (process.env['HERALD_BENCH_REDIS_CONFIG'] ?? '').split(' ').filter(Boolean);
  for (const node of nodes) for (let i = 0; i + 1 < redisSettings.length; i += 2) await node.config('SET', redisSettings[i]!, redisSettings[i + 1]!);
  // HERALD_BENCH_SLOWLOG=1: every command; =N: those of N µs or more.
  const slowlog = process.env['HERALD_BENCH_SLOWLOG'];
  if (slowlog !== undefined) for (const node of nodes) await node.config('SET', 'slowlog-log-slower-than', slowlog === '1' ? '0' : slowlog, 'slowlog-max-len', '1000000');
  const keys = createKeys('herald');
  const env = {
    REDIS_URL: server.appsUrl,
    HERALD_DEVICE_SECRET: DEVICE_SECRET,
    HERALD_LOG_LEVEL: 'error',
    INGEST_PORT: String(INGEST),
    HERALD_BACKLOG_LIMIT_LOW: '50000000',
    HERALD_BACKLOG_LIMIT_MEDIUM: '50000000',
  };
  const children: ReturnType<typeof runTs>[] = [];
  try {
    const gatewayPort = 3291;
    /** The processes whose CPU time the pipeline run reports, by role. */
    const roles: [string, number][] = server.pids.map((pid, i) => [server.pids.length > 1 ? `redis ${i + 1}` : 'redis', pid]);
    const start = (role: string, child: ReturnType<typeof runTs>) => {
      children.push(child);
      roles.push([role, child.pid ?? -1]);
    };
    start('gateway', runTs('apps/gateway/src/main.ts', { ...env, GATEWAY_PORT: String(gatewayPort) }, cpuProfileFlags('gateway')));
    start('ingest', runTs('apps/ingest/src/main.ts', env, [...cpuProfileFlags('ingest'), '--max-semi-space-size=64']));
    start('worker high', runTs('apps/worker/src/main.ts', { ...env, WORKER_PORT: '3401', HERALD_WORKER_PRIORITIES: 'high' }, ['--max-semi-space-size=64']));
    // The lower priorities' worker gives way for CPU, as it would on a shared host (HERALD_WORKER_NICE).
    const lowerNice = process.env['HERALD_BENCH_WORKER_NICE'] ?? '10';
    // More processes for the lower priorities share their partitions (leases), as RENO scales a priority out.
    const lowerWorkers = Number(process.env['HERALD_BENCH_LOWER_WORKERS'] ?? '1');
    const lowerPorts = Array.from({ length: lowerWorkers }, (_, i) => 3402 + i);
    for (const port of lowerPorts) {
      start(
        `worker medium,low${lowerWorkers > 1 ? ` ${port - 3401}` : ''}`,
        runTs('apps/worker/src/main.ts', { ...env, WORKER_PORT: String(port), HERALD_WORKER_PRIORITIES: 'medium,low', HERALD_WORKER_NICE: lowerNice }, [
          ...cpuProfileFlags('worker'),
          '--max-semi-space-size=64',
        ]),
      );
    }
    await Promise.all([INGEST, 3401, ...lowerPorts, gatewayPort].map((port) => waitUntilReady(`http://127.0.0.1:${port}/readyz`)));

    // Devices: one web device per account, registered and connected to the gateway.
    const registry = new DeviceRegistry({ redis, keys, tokens: new DeviceTokens({ secret: DEVICE_SECRET, ttlSeconds: 3600 }) });
    let received = fresh();
    const sockets: Socket[] = [];
    const accounts = Array.from({ length: deviceCount }, (_, i) => `acct-${i}`);
    for (const accountId of accounts) {
      const { token } = await registry.register({ accountId, platform: 'web', deviceId: `web-${accountId}` });
      const socket = connect(`http://127.0.0.1:${gatewayPort}`, { auth: { token }, transports: ['websocket'] });
      socket.on('notification', (n: Notification) => {
        received.count++;
        received.lastAt = Date.now();
        const sentAt = n.payload['t'];
        if (typeof sentAt === 'number') {
          const list = received.latencies.get(n.priority) ?? [];
          list.push(Date.now() - sentAt);
          received.latencies.set(n.priority, list);
        }
      });
      await new Promise<void>((resolve) => socket.once('synced', () => resolve()));
      sockets.push(socket);
    }

    let sequence = 0;
    const batchBody = (type: string, size: number) =>
      JSON.stringify({
        events: Array.from({ length: size }, () => {
          const n = sequence++;
          return { id: `e${n}`, type, accountId: accounts[n % accounts.length], payload: { t: Date.now(), n } };
        }),
      });
    const postBatch = (type: string, size = 1000) => fetch(`http://127.0.0.1:${INGEST}/v1/events/batch`, { method: 'POST', headers, body: batchBody(type, size) });
    const flood = async (type: string, until: number, concurrency: number) => {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (Date.now() < until) await (await postBatch(type)).arrayBuffer();
        }),
      );
    };
    /** Waits until the streams are empty (backlog counters at 0), then until deliveries stop. */
    const drain = async () => {
      const counters = await scanKeys(redis, 'herald:{p:*}:backlog');
      const backlog = async () => (await Promise.all(counters.map((key) => redis.get(key)))).some((value) => Number(value) > 0);
      while (counters.length > 0 && (await backlog())) await sleep(200);
      for (let last = -1; last !== received.count; ) {
        last = received.count;
        await sleep(1000);
      }
    };

    // 1. Baseline: a bare emitter to the same devices, through the gateway's sharded Socket.IO
    // adapter (SPUBLISH of a ClusterAdapter broadcast on its static channel, as an emitting server would).
    let baselineRate = NaN;
    if (runs.has('baseline')) {
      console.log(`baseline: bare emitter through the sharded Socket.IO adapter → ${deviceCount} devices, ${duration / 1000}s ...`);
      const emitterRedis = createRedis({ url: env.REDIS_URL, autoPipelining: true });
      const emitter = new ShardedEmitter(emitterRedis, keys.socketIoPrefix);
      received = fresh();
      const end = Date.now() + duration;
      let emitted = 0;
      while (Date.now() < end) {
        for (let i = 0; i < 500; i++, emitted++) {
          const accountId = accounts[emitted % accounts.length]!;
          // A fresh cursor each time: the gateway drops pushes older than what a device has.
          emitter.to(deviceRoom(accountId, `web-${accountId}`)).emit('notification', {
            id: `b${emitted}`, cursor: `${Date.now()}-${emitted}`, type: 'mylist.updated', accountId, payload: { t: Date.now() }, createdAt: new Date().toISOString(), priority: 'medium',
          });
        }
        await sleep(0);
      }
      const baselineWindow = received.count;
      await drain();
      await closeRedis(emitterRedis);
      baselineRate = baselineWindow / (duration / 1000);
    }

    // 2. Throughput: medium-priority batches through the whole pipeline.
    let pipelineRate = NaN;
    let sent = 0;
    let mediumLatency: number[] = [];
    /** CPU seconds of each process (and of this one: the devices and the load generator) so far. */
    const cpuNow = () => {
      const own = process.cpuUsage();
      return [...roles.map(([role, pid]) => [role, processCpuSeconds(pid)] as const), ['devices + load generator', (own.user + own.system) / 1e6] as const];
    };
    let cpuPerNotification = '';
    let masterShares = '';
    if (runs.has('pipeline')) {
      const cpuBefore = cpuNow();
      const loadBefore = await masterLoad(nodes);
      console.log(`pipeline: batches of 1000 into ingest, ${duration / 1000}s ...`);
      received = fresh();
      const started = Date.now();
      await flood('mylist.updated', started + duration, 4);
      sent = sequence;
      await drain();
      // Until the last one arrived: drain() itself waits a second or two after it.
      pipelineRate = received.count / ((received.lastAt - started) / 1000);
      mediumLatency = received.latencies.get('medium') ?? [];
      const delivered = received.count;
      const perNotification = cpuNow().map(([role, seconds], i) => [role, ((seconds - cpuBefore[i]![1]) * 1e6) / delivered] as const);
      const total = perNotification.reduce((sum, [, us]) => sum + us, 0);
      cpuPerNotification = `CPU µs per notification delivered: ${perNotification.map(([role, us]) => `${role} ${us.toFixed(1)}`).join(', ')}; total ${total.toFixed(1)}`;
      // Each master's share of the pipeline run's Redis commands and CPU: how evenly the load spreads.
      const loadAfter = await masterLoad(nodes);
      const deltas = loadAfter.map((after, i) => ({ node: after.node, commands: after.commands - loadBefore[i]!.commands, cpu: after.cpu - loadBefore[i]!.cpu }));
      const allCommands = deltas.reduce((sum, d) => sum + d.commands, 0);
      const allCpu = deltas.reduce((sum, d) => sum + d.cpu, 0);
      const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
      masterShares = `redis masters, share of the pipeline run's commands / CPU: ${deltas.map((d) => `${d.node} ${pct(d.commands, allCommands)} / ${pct(d.cpu, allCpu)} (${d.cpu.toFixed(1)} s)`).join(', ')}`;
    }

    // 3. Isolation: high-priority events alone, then under a low-priority flood. They are sent
    // and received by a probe process of their own (see probe.ts), on accounts of their own.
    let idleHigh: number[] = [];
    let floodHigh: number[] = [];
    let floodLow: number[] = [];
    let floodRate = NaN;
    if (runs.has('isolation')) {
      console.log(`isolation: high-priority events at ${values['high-rate']}/s, idle then under a low-priority flood ...`);
      const probeDevices: { accountId: string; token: string }[] = [];
      for (let i = 0; i < 5; i++) {
        const accountId = `probe-${i}`;
        const { token } = await registry.register({ accountId, platform: 'web', deviceId: `web-${accountId}` });
        probeDevices.push({ accountId, token });
      }
      const runProbe = (idPrefix: string) =>
        new Promise<ProbeSample[]>((resolve, reject) => {
          const probe = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', `${root}bench/src/probe.ts`], {
            env: {
              ...process.env,
              HERALD_PROBE: JSON.stringify({
                ingestUrl: `http://127.0.0.1:${INGEST}`,
                gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
                serviceKey: KEY,
                devices: probeDevices,
                rate: Number(values['high-rate']),
                durationMs: duration,
                idPrefix,
              }),
            },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          probe.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
          probe.once('exit', (code) => {
            const line = out.split('\n').find((l) => l.startsWith('PROBE '));
            if (code !== 0 || line === undefined) reject(new Error(`probe exited with ${code}`));
            else resolve(JSON.parse(line.slice(6)) as ProbeSample[]);
          });
        });
      const latencies = (samples: ProbeSample[]) => samples.flatMap((s) => (s.receivedAt === undefined ? [] : [s.receivedAt - s.sentAt]));
      /** Where the time went, per stage, from the events' traces: p50/p99 ms of each. */
      const stages = async (samples: ProbeSample[]) => {
        const parts: Record<string, number[]> = { 'sent→accepted': [], 'accepted→routed': [], 'routed→emitted': [], 'emitted→received': [] };
        for (const sample of samples) {
          if (sample.receivedAt === undefined) continue;
          const response = await fetch(`http://127.0.0.1:${INGEST}/v1/events/${sample.id}`, { headers });
          const trace = EventTraceSchema.safeParse(await response.json());
          if (!trace.success || trace.data.acceptedAt === undefined || trace.data.routedAt === undefined || trace.data.pushes[0] === undefined) continue;
          const accepted = Date.parse(trace.data.acceptedAt);
          const routed = Date.parse(trace.data.routedAt);
          const emitted = Date.parse(trace.data.pushes[0].at);
          parts['sent→accepted']!.push(accepted - sample.sentAt);
          parts['accepted→routed']!.push(routed - accepted);
          parts['routed→emitted']!.push(emitted - routed);
          parts['emitted→received']!.push(sample.receivedAt - emitted);
        }
        return Object.entries(parts).map(([stage, list]) => `${stage} ${percentile(list, 50)}/${percentile(list, 99)}`).join(', ');
      };
      const idleSamples = await runProbe('idle-');
      idleHigh = latencies(idleSamples);
      received = fresh();
      const floodStart = Date.now();
      const end = floodStart + duration;
      // The probe needs a moment to start and connect: the flood runs a little longer than it.
      const [floodSamples] = await Promise.all([runProbe('flood-'), flood('recommendations.updated', end + 2000, 2)]);
      await drain();
      floodHigh = latencies(floodSamples);
      floodLow = received.latencies.get('low') ?? [];
      floodRate = floodLow.length / ((received.lastAt - floodStart) / 1000);
      const lost = [...idleSamples, ...floodSamples].filter((s) => s.receivedAt === undefined).length;
      console.log(`stages, p50/p99 ms, idle: ${await stages(idleSamples)}`);
      console.log(`stages, p50/p99 ms, under the flood: ${await stages(floodSamples)}`);
      if (lost > 0) console.log(`WARNING: ${lost} high-priority events not received within 10 s`);
    }

    const ms = (list: number[], p: number) => (list.length === 0 ? '-' : String(percentile(list, p)));
    console.log(`\nPipeline benchmark, ${duration / 1000}s per run, ${deviceCount} devices, ${values.cluster ? 'Redis Cluster of 3 masters' : 'one redis-server'}, node ${process.version}, ${new Date().toISOString()}\n`);
    console.log('| run | notifications/s delivered | p50 ms | p99 ms |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| baseline: bare emitter (sharded adapter) → clients | ${Math.round(baselineRate).toLocaleString('en')} | - | - |`);
    console.log(`| pipeline: ingest batches → worker → clients (medium) | ${Math.round(pipelineRate).toLocaleString('en')} | ${ms(mediumLatency, 50)} | ${ms(mediumLatency, 99)} |`);
    console.log(`| high priority alone (${values['high-rate']}/s) | - | ${ms(idleHigh, 50)} | ${ms(idleHigh, 99)} |`);
    console.log(`| high priority under a low flood | - | ${ms(floodHigh, 50)} | ${ms(floodHigh, 99)} |`);
    console.log(`| low-priority flood itself | ${Math.round(floodRate).toLocaleString('en')} | ${ms(floodLow, 50)} | ${ms(floodLow, 99)} |`);
    if (cpuPerNotification !== '') console.log(`\n${cpuPerNotification}`);
    if (masterShares !== '') console.log(masterShares);
    console.log(`\npipeline${values.cluster ? ' (Redis Cluster)' : ''}: ${(pipelineRate / baselineRate).toFixed(2)}x the emitter baseline (${sent.toLocaleString('en')} events sent); high p99 under flood: ${(percentile(floodHigh, 99) / percentile(idleHigh, 99)).toFixed(2)}x idle`);
    if (slowlog !== undefined) {
      const slow = (await Promise.all(nodes.map((node) => node.call('SLOWLOG', 'GET', '-1')))).flat() as [number, number, number, string[]][];
      const byScript = new Map<string, { count: number; usec: number }>();
      for (const [, , usec, args] of slow) {
        const name = `${args[0]} ${String(args[1]).slice(0, 12)} keys=${args[2]} ${String(args[3]).replace(/acct-\d+|\d+$/g, '*').slice(0, 40)}`;
        const entry = byScript.get(name) ?? { count: 0, usec: 0 };
        entry.count++;
        entry.usec += usec;
        byScript.set(name, entry);
      }
      console.log([...byScript].sort((a, b) => b[1].usec - a[1].usec).slice(0, 15).map(([n, e]) => `${(e.usec / 1e6).toFixed(2)}s ${e.count}x ${n}`).join('\n'));
    }
    const byCommand = new Map<string, { calls: number; usec: number }>();
    for (const node of nodes) {
      for (const [, name, calls, usec] of [...(await node.info('commandstats')).matchAll(/^cmdstat_(\S+?):calls=(\d+),usec=(\d+)/gm)]) {
        const entry = byCommand.get(name!) ?? { calls: 0, usec: 0 };
        entry.calls += Number(calls);
        entry.usec += Number(usec);
        byCommand.set(name!, entry);
      }
    }
    const stats = [...byCommand].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.usec - a.usec).slice(0, 10);
    // How the gateway delivered: live pushes sent as they came, sent from history (replays and gap
    // reads), pushes dropped as duplicates, and history reads by live connections.
    const gatewayMetrics = await (await fetch(`http://127.0.0.1:${gatewayPort}/metrics`)).text();
    const counters = gatewayMetrics
      .split('\n')
      .filter((line) => /^herald_gateway_(notifications_(pushed|replayed|dropped)|gap_fills)_total/.test(line))
      .map((line) => line.replace(/^herald_gateway_/, '').replace(/_total/, ''));
    console.log(`gateway: ${counters.join(', ')}`);
    console.log(`redis time by command: ${stats.map((s) => `${s.name} ${(s.usec / 1e6).toFixed(1)}s/${s.calls}`).join(', ')}`);
    const traffic: Record<string, number> = {};
    for (const node of nodes) for (const [, way, bytes] of (await node.info('stats')).matchAll(/^total_net_(input|output)_bytes:(\d+)/gm)) traffic[way!] = (traffic[way!] ?? 0) + Number(bytes);
    const perEvent = (bytes = 0) => (sent === 0 ? '-' : Math.round(bytes / sent).toLocaleString('en'));
    console.log(`redis traffic, bytes per pipeline event sent (all runs): in ${perEvent(traffic['input'])}, out ${perEvent(traffic['output'])}`);
    for (const socket of sockets) socket.disconnect();
  } finally {
    await stopProcesses(children, 10_000);
    redis.disconnect();
    await server.stop();
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
