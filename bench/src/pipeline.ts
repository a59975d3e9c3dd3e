/**
 * bench/pipeline: end to end, events posted to ingest in batches → routed by the worker →
 * delivered through the live streams → sent by the gateway → received by connected
 * socket.io-client devices. Reports notifications/s and submit→receive latency per priority, next to a
 * same-run baseline (bare @socket.io/redis-emitter → the same clients), and priority
 * isolation under load shedding: high-priority p99 while a low-priority flood saturates the
 * system, the low priority's goodput meanwhile, and whether any high-priority event was
 * refused, lost or answered 5xx.
 *
 *   npm run bench:pipeline [-- --duration 10 --devices 200 --cluster]
 *
 * Runs on this machine only: a fresh redis-server and the layout `npm start` gives a user
 * (ingest, ONE worker for every priority at nice 0, the gateway; HERALD_BENCH_LAYOUT=split runs
 * the tuned layout of earlier sessions: a high worker and a niced medium,low one), and the
 * devices and load generator in this process. Ingest runs with load shedding OFF for the
 * pipeline run (the throughput shedding is compared with) and is restarted with it ON (the
 * default) for the isolation run; `--only unshed` adds the flood with shedding off.
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
import { HostCpuSampler } from '@herald/overload';
import { freePort, startRedisCluster, startRedisServer } from '@herald/embedded-redis';
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
    /** Concurrent connections of the low-priority flood, each posting batches back to back. */
    'flood-connections': { type: 'string', default: '2' },
    /** Events per batch of the flood. */
    'flood-batch': { type: 'string', default: '1000' },
    /**
     * Comma-separated runs to do: baseline, pipeline, isolation (default: those three), and
     * unshed (the flood with load shedding off, for comparison: it leaves a backlog of
     * minutes to drain).
     */
    only: { type: 'string', default: 'baseline,pipeline,isolation' },
    /** On a local Redis Cluster of 3 masters instead of one redis-server. */
    cluster: { type: 'boolean', default: false },
  },
});
const runs = new Set(values.only.split(','));
for (const run of runs) if (!['baseline', 'pipeline', 'isolation', 'unshed'].includes(run)) throw new Error(`--only: unknown run ${run}`);
const floodConnections = Number(values['flood-connections']);
const floodBatch = Number(values['flood-batch']);
/** `npm start`'s layout (one worker for every priority), unless HERALD_BENCH_LAYOUT=split. */
const splitLayout = process.env['HERALD_BENCH_LAYOUT'] === 'split';
const duration = Number(values.duration) * 1000;
const deviceCount = Number(values.devices);
const KEY = 'dev-service-key';
/** Every app's port is a free one: other copies of Herald may run on this machine. */
const INGEST = await freePort();
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

/** What a flood's batches came to, per item, and how its connections were told to wait. */
interface FloodTally {
  offered: number;
  accepted: number;
  /** Items refused with `overloaded` (load shedding). */
  shed: number;
  backlog: number;
  other: number;
  /** Requests answered 429 (every item refused), after which a connection waited Retry-After. */
  refusedRequests: number;
  /** Seconds the connections spent waiting for Retry-After. */
  waitedSeconds: number;
}

const freshTally = (): FloodTally => ({ offered: 0, accepted: 0, shed: 0, backlog: 0, other: 0, refusedRequests: 0, waitedSeconds: 0 });

/** Ingest's load-shedding gauges, read from its /metrics (a sample of the controller's state). */
interface ShedSample {
  level: number;
  pressure: number;
  shedLow: number;
  shedMedium: number;
  cpu: number;
  eventLoopDelayMs: number;
  redisRttMs: number;
  highAgeMs: number;
}

function parseShedSample(text: string): ShedSample | undefined {
  const value = (pattern: RegExp) => {
    const line = text.split('\n').find((l) => pattern.test(l));
    return line === undefined ? NaN : Number(line.split(' ').pop());
  };
  const level = value(/^herald_overload_level[ {]/);
  if (Number.isNaN(level)) return undefined;
  return {
    level,
    pressure: value(/^herald_overload_pressure[ {]/),
    shedLow: value(/^herald_overload_shed_ratio\{priority="low"/),
    shedMedium: value(/^herald_overload_shed_ratio\{priority="medium"/),
    cpu: value(/^herald_overload_signal\{signal="cpu_busy_ratio"/),
    eventLoopDelayMs: value(/^herald_overload_signal\{signal="event_loop_delay_seconds"/) * 1000,
    redisRttMs: value(/^herald_overload_signal\{signal="redis_rtt_seconds"/) * 1000,
    highAgeMs: value(/^herald_overload_signal\{signal="high_unrouted_age_seconds"/) * 1000,
  };
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
  if (slowlog !== undefined)
    for (const node of nodes) await node.config('SET', 'slowlog-log-slower-than', slowlog === '1' ? '0' : slowlog, 'slowlog-max-len', '1000000');
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
    const gatewayPort = await freePort();
    /** The processes whose CPU time the pipeline run reports, by role. */
    const roles: [string, number][] = server.pids.map((pid, i) => [server.pids.length > 1 ? `redis ${i + 1}` : 'redis', pid]);
    const start = (role: string, child: ReturnType<typeof runTs>) => {
      children.push(child);
      roles.push([role, child.pid ?? -1]);
    };
    start('gateway', runTs('apps/gateway/src/main.ts', { ...env, GATEWAY_PORT: String(gatewayPort) }, cpuProfileFlags('gateway')));
    /** Ingest, with load shedding on or off (the bench compares both in one run); restarted to switch. */
    let ingest: ReturnType<typeof runTs> | undefined;
    let ingestShedding: boolean | undefined;
    const startIngest = async (shedding: boolean) => {
      if (ingestShedding === shedding) return;
      if (ingest !== undefined) {
        await stopProcesses([ingest], 10_000);
        children.splice(children.indexOf(ingest), 1);
        roles.splice(
          roles.findIndex(([role]) => role === 'ingest'),
          1,
        );
      }
      ingest = runTs('apps/ingest/src/main.ts', { ...env, HERALD_SHEDDING: String(shedding) }, [...cpuProfileFlags('ingest'), '--max-semi-space-size=64']);
      start('ingest', ingest);
      ingestShedding = shedding;
      await waitUntilReady(`http://127.0.0.1:${INGEST}/readyz`);
    };
    const workerPorts: number[] = [];
    if (splitLayout) {
      // The tuned layout of sessions 2-6: high priority in a worker of its own, the lower ones niced.
      const highPort = await freePort();
      start(
        'worker high',
        runTs('apps/worker/src/main.ts', { ...env, WORKER_PORT: String(highPort), HERALD_WORKER_PRIORITIES: 'high' }, ['--max-semi-space-size=64']),
      );
      workerPorts.push(highPort);
      const lowerNice = process.env['HERALD_BENCH_WORKER_NICE'] ?? '10';
      // More processes for the lower priorities share their partitions (leases), as RENO scales a priority out.
      const lowerWorkers = Number(process.env['HERALD_BENCH_LOWER_WORKERS'] ?? '1');
      for (let i = 0; i < lowerWorkers; i++) {
        const port = await freePort();
        workerPorts.push(port);
        start(
          `worker medium,low${lowerWorkers > 1 ? ` ${i + 1}` : ''}`,
          runTs('apps/worker/src/main.ts', { ...env, WORKER_PORT: String(port), HERALD_WORKER_PRIORITIES: 'medium,low', HERALD_WORKER_NICE: lowerNice }, [
            ...cpuProfileFlags('worker'),
            '--max-semi-space-size=64',
          ]),
        );
      }
    } else {
      // What `npm start` runs: one worker for every priority, both roles, nice 0.
      const port = await freePort();
      start('worker', runTs('apps/worker/src/main.ts', { ...env, WORKER_PORT: String(port) }, [...cpuProfileFlags('worker'), '--max-semi-space-size=64']));
      workerPorts.push(port);
    }
    await Promise.all([...workerPorts, gatewayPort].map((port) => waitUntilReady(`http://127.0.0.1:${port}/readyz`)));
    await startIngest(false);

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
    const postBatch = (type: string, size = 1000) =>
      fetch(`http://127.0.0.1:${INGEST}/v1/events/batch`, { method: 'POST', headers, body: batchBody(type, size) });
    /**
     * Posts batches back to back from `concurrency` connections until `until`, as a saturating
     * client would. Shed items are not sent again (the flood never runs dry anyway), but a
     * connection whose whole batch was refused (429) waits its Retry-After, as HeraldPublisher does.
     */
    const flood = async (type: string, until: number, concurrency: number, tally = freshTally(), size = 1000) => {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (Date.now() < until) {
            const response = await postBatch(type, size);
            tally.offered += size;
            const body = (await response.json()) as { results?: { status?: string; error?: { code: string } }[] };
            for (const result of body.results ?? []) {
              const code = result.error?.code;
              if (code === undefined) tally.accepted++;
              else if (code === 'overloaded') tally.shed++;
              else if (code === 'backlog_exceeded') tally.backlog++;
              else tally.other++;
            }
            if (response.status === 429) {
              tally.refusedRequests++;
              const waitMs = Math.min(Number(response.headers.get('retry-after') ?? '1') * 1000, Math.max(0, until - Date.now()));
              tally.waitedSeconds += waitMs / 1000;
              await sleep(waitMs);
            }
          }
        }),
      );
      return tally;
    };
    /** Waits until the streams are empty (backlog counters at 0), then until deliveries stop. */
    const drain = async () => {
      const counters = await scanKeys(redis, 'herald:{p:*}:backlog');
      const backlog = async () => (await Promise.all(counters.map((key) => redis.get(key)))).some((value) => Number(value) > 0);
      while (counters.length > 0 && (await backlog())) await sleep(200);
      for (let last = -1; last !== received.count;) {
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
            id: `b${emitted}`,
            cursor: `${Date.now()}-${emitted}`,
            type: 'mylist.updated',
            accountId,
            payload: { t: Date.now() },
            createdAt: new Date().toISOString(),
            priority: 'medium',
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
      const deltas = loadAfter.map((after, i) => ({
        node: after.node,
        commands: after.commands - loadBefore[i]!.commands,
        cpu: after.cpu - loadBefore[i]!.cpu,
      }));
      const allCommands = deltas.reduce((sum, d) => sum + d.commands, 0);
      const allCpu = deltas.reduce((sum, d) => sum + d.cpu, 0);
      const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
      masterShares = `redis masters, share of the pipeline run's commands / CPU: ${deltas.map((d) => `${d.node} ${pct(d.commands, allCommands)} / ${pct(d.cpu, allCpu)} (${d.cpu.toFixed(1)} s)`).join(', ')}`;
    }

    // 3. Isolation: high-priority events alone, then under a low-priority flood (with load
    // shedding on; `unshed`: also off). They are sent and received by a probe process of their
    // own (see probe.ts), on accounts of their own.
    interface FloodRun {
      high: ProbeSample[];
      low: number[];
      /** Low-priority notifications delivered per second while the flood ran. */
      goodput: number;
      /** The same until the last one arrived (the flood's backlog drained): sessions 1-6's figure. */
      drainedRate: number;
      tally: FloodTally;
      /** Host CPU busy fraction while the flood ran (every process on the machine). */
      hostBusy: number;
      shedding: ShedSample[];
    }
    let idleSamples: ProbeSample[] = [];
    let shed: FloodRun | undefined;
    let unshed: FloodRun | undefined;
    const stageLines: string[] = [];
    if (runs.has('isolation') || runs.has('unshed')) {
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
      /** Where the time went, per stage, from the events' traces: p50/p99 ms of each. */
      const stages = async (samples: ProbeSample[]) => {
        // The trace's push time is when the gateway sent the notification on the device's socket.
        const parts: Record<string, number[]> = { 'sent→accepted': [], 'accepted→routed': [], 'routed→gateway sent': [], 'gateway sent→received': [] };
        for (const sample of samples) {
          if (sample.receivedAt === undefined) continue;
          const response = await fetch(`http://127.0.0.1:${INGEST}/v1/events/${sample.id}`, { headers });
          const trace = EventTraceSchema.safeParse(await response.json());
          if (!trace.success || trace.data.acceptedAt === undefined || trace.data.routedAt === undefined || trace.data.pushes[0] === undefined) continue;
          const accepted = Date.parse(trace.data.acceptedAt);
          const routed = Date.parse(trace.data.routedAt);
          const gatewaySent = Date.parse(trace.data.pushes[0].at);
          parts['sent→accepted']!.push(accepted - sample.sentAt);
          parts['accepted→routed']!.push(routed - accepted);
          parts['routed→gateway sent']!.push(gatewaySent - routed);
          parts['gateway sent→received']!.push(sample.receivedAt - gatewaySent);
        }
        return Object.entries(parts)
          .map(([stage, list]) => `${stage} ${percentile(list, 50)}/${percentile(list, 99)}`)
          .join(', ');
      };
      /** The probe under a low-priority flood; ingest's shedding gauges sampled every 0.5 s meanwhile. */
      const floodRun = async (idPrefix: string): Promise<FloodRun> => {
        received = fresh();
        const floodStart = Date.now();
        // Host CPU busy fraction over the flood (every process, both cores), as ingest's signal reads it.
        const hostCpu = new HostCpuSampler();
        const sheddingSamples: ShedSample[] = [];
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const text = await fetch(`http://127.0.0.1:${INGEST}/metrics`).then(
              (r) => r.text(),
              () => '',
            );
            const sample = parseShedSample(text);
            if (sample !== undefined) sheddingSamples.push(sample);
            await sleep(500);
          }
        })();
        let lowAtEnd = 0;
        let floodSeconds = 0;
        let hostBusy = NaN;
        // The probe needs a moment to start and connect: the flood runs a little longer than it.
        const flooding = flood('recommendations.updated', floodStart + duration + 2000, floodConnections, freshTally(), floodBatch).then((tally) => {
          lowAtEnd = received.latencies.get('low')?.length ?? 0;
          floodSeconds = (Date.now() - floodStart) / 1000;
          hostBusy = hostCpu.read() ?? 0;
          sampling = false;
          return tally;
        });
        const [high, tally] = await Promise.all([runProbe(idPrefix), flooding]);
        await sampler;
        await drain();
        const low = received.latencies.get('low') ?? [];
        return {
          high,
          low,
          goodput: lowAtEnd / floodSeconds,
          drainedRate: low.length / ((received.lastAt - floodStart) / 1000),
          tally,
          hostBusy,
          shedding: sheddingSamples,
        };
      };
      const flooding = `a low-priority flood (${floodConnections} connections, batches of ${floodBatch})`;
      if (runs.has('unshed')) {
        await startIngest(false);
        console.log(`unshed: high-priority events at ${values['high-rate']}/s under ${flooding}, load shedding OFF ...`);
        unshed = await floodRun('unshed-');
        stageLines.push(`stages, p50/p99 ms, under the flood, shedding off: ${await stages(unshed.high)}`);
      }
      await startIngest(true);
      console.log(`isolation: high-priority events at ${values['high-rate']}/s, alone then under ${flooding}, load shedding ON ...`);
      idleSamples = await runProbe('idle-');
      stageLines.push(`stages, p50/p99 ms, alone: ${await stages(idleSamples)}`);
      if (runs.has('isolation')) {
        shed = await floodRun('flood-');
        stageLines.push(`stages, p50/p99 ms, under the flood, shedding on: ${await stages(shed.high)}`);
      }
      for (const line of stageLines) console.log(line);
    }

    const latencies = (samples: ProbeSample[]) => samples.flatMap((s) => (s.receivedAt === undefined ? [] : [s.receivedAt - s.sentAt]));
    const idleHigh = latencies(idleSamples);
    const ms = (list: number[], p: number) => (list.length === 0 ? '-' : String(percentile(list, p)));
    const rate = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? '-' : Math.round(value).toLocaleString('en'));
    console.log(
      `\nPipeline benchmark, ${duration / 1000}s per run, ${deviceCount} devices, ${splitLayout ? 'split layout (high | medium,low niced)' : "npm start's layout (one worker for every priority)"}, ${values.cluster ? 'Redis Cluster of 3 masters' : 'one redis-server'}, node ${process.version}, ${new Date().toISOString()}\n`,
    );
    console.log('| run | notifications/s delivered | p50 ms | p99 ms |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| baseline: bare emitter (sharded adapter) → clients | ${rate(baselineRate)} | - | - |`);
    console.log(
      `| pipeline, shedding off: ingest batches → worker → clients (medium) | ${rate(pipelineRate)} | ${ms(mediumLatency, 50)} | ${ms(mediumLatency, 99)} |`,
    );
    console.log(`| high priority alone (${values['high-rate']}/s), shedding on | - | ${ms(idleHigh, 50)} | ${ms(idleHigh, 99)} |`);
    for (const [name, run] of [
      ['off', unshed],
      ['on', shed],
    ] as const) {
      if (run === undefined) continue;
      const high = latencies(run.high);
      console.log(`| high priority under a low flood, shedding ${name} | - | ${ms(high, 50)} | ${ms(high, 99)} |`);
      console.log(
        `| low-priority flood itself, shedding ${name}: goodput while it ran (drained rate) | ${rate(run.goodput)} (${rate(run.drainedRate)}) | ${ms(run.low, 50)} | ${ms(run.low, 99)} |`,
      );
    }
    if (cpuPerNotification !== '') console.log(`\n${cpuPerNotification}`);
    if (masterShares !== '') console.log(masterShares);
    console.log(
      `\npipeline${values.cluster ? ' (Redis Cluster)' : ''}: ${(pipelineRate / baselineRate).toFixed(2)}x the emitter baseline (${sent.toLocaleString('en')} events sent)`,
    );
    for (const [name, run] of [
      ['off', unshed],
      ['on', shed],
    ] as const) {
      if (run === undefined) continue;
      const { tally } = run;
      const share = (n: number) => `${((100 * n) / Math.max(1, tally.offered)).toFixed(0)}%`;
      console.log(
        `flood, shedding ${name}: ${tally.offered.toLocaleString('en')} events offered: accepted ${share(tally.accepted)}, shed (overloaded) ${share(tally.shed)}, backlog_exceeded ${share(tally.backlog)}, other ${share(tally.other)}; ` +
          `${tally.refusedRequests} requests refused whole (waited ${tally.waitedSeconds.toFixed(1)} s for Retry-After); host CPU busy ${(100 * run.hostBusy).toFixed(0)}%`,
      );
      const samples = run.shedding;
      if (samples.length > 0) {
        const mean = (pick: (s: ShedSample) => number) => samples.reduce((sum, s) => sum + pick(s), 0) / samples.length;
        const max = (pick: (s: ShedSample) => number) => Math.max(...samples.map(pick));
        console.log(
          `  ingest's shedding gauges (${samples.length} samples, 0.5 s apart): level mean ${mean((s) => s.level).toFixed(2)} max ${max((s) => s.level).toFixed(2)}; ` +
            `low shed mean ${(100 * mean((s) => s.shedLow)).toFixed(0)}% max ${(100 * max((s) => s.shedLow)).toFixed(0)}%; medium shed max ${(100 * max((s) => s.shedMedium)).toFixed(0)}%; ` +
            `pressure mean ${mean((s) => s.pressure).toFixed(2)}; signals mean: host CPU ${(100 * mean((s) => s.cpu)).toFixed(0)}%, event-loop delay ${mean((s) => s.eventLoopDelayMs).toFixed(1)} ms, ` +
            `Redis PING ${mean((s) => s.redisRttMs).toFixed(1)} ms, oldest unrouted high ${mean((s) => s.highAgeMs).toFixed(0)} ms (max ${max((s) => s.highAgeMs).toFixed(0)})`,
        );
      }
    }

    // Issue 16's targets, all from this run.
    if (shed !== undefined) {
      const floodHigh = latencies(shed.high);
      const allHigh = [...idleSamples, ...shed.high];
      const refused = allHigh.filter((s) => s.status !== undefined && s.status >= 400 && s.status < 500).length;
      const errors = allHigh.filter((s) => s.status !== undefined && (s.status >= 500 || s.status === 0)).length;
      const lost = allHigh.filter((s) => s.receivedAt === undefined).length;
      const p99Ratio = percentile(floodHigh, 99) / percentile(idleHigh, 99);
      const goodputRatio = shed.goodput / pipelineRate;
      console.log(`\nLoad shedding, this run (${splitLayout ? 'split layout' : "npm start's layout"}):`);
      console.log(
        `(a) high-priority p99: ${ms(idleHigh, 99)} ms alone, ${ms(floodHigh, 99)} ms under the flood with shedding on: ${p99Ratio.toFixed(2)}x (target ≤ 2x)${unshed === undefined ? '' : `; with shedding off ${ms(latencies(unshed.high), 99)} ms`}`,
      );
      console.log(
        `(b) low-priority goodput under the flood with shedding on: ${rate(shed.goodput)}/s = ${goodputRatio.toFixed(2)}x the pipeline's ${rate(pipelineRate)}/s with shedding off (target ≥ 0.75x)`,
      );
      console.log(
        `(c) high-priority events: ${allHigh.length} sent, ${refused} refused (4xx), ${errors} 5xx or unanswered, ${lost} not received within 10 s (target: all 0)`,
      );
      console.log(`(d) pipeline with shedding off: ${(pipelineRate / baselineRate).toFixed(2)}x the emitter baseline (goal ≥ 0.8x)`);
    }

    if (slowlog !== undefined) {
      const slow = (await Promise.all(nodes.map((node) => node.call('SLOWLOG', 'GET', '-1')))).flat() as [number, number, number, string[]][];
      const byScript = new Map<string, { count: number; usec: number }>();
      for (const [, , usec, args] of slow) {
        const name = `${args[0]} ${String(args[1]).slice(0, 12)} keys=${args[2]} ${String(args[3])
          .replace(/acct-\d+|\d+$/g, '*')
          .slice(0, 40)}`;
        const entry = byScript.get(name) ?? { count: 0, usec: 0 };
        entry.count++;
        entry.usec += usec;
        byScript.set(name, entry);
      }
      console.log(
        [...byScript]
          .sort((a, b) => b[1].usec - a[1].usec)
          .slice(0, 15)
          .map(([n, e]) => `${(e.usec / 1e6).toFixed(2)}s ${e.count}x ${n}`)
          .join('\n'),
      );
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
    const stats = [...byCommand]
      .map(([name, e]) => ({ name, ...e }))
      .sort((a, b) => b.usec - a.usec)
      .slice(0, 10);
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
    for (const node of nodes)
      for (const [, way, bytes] of (await node.info('stats')).matchAll(/^total_net_(input|output)_bytes:(\d+)/gm))
        traffic[way!] = (traffic[way!] ?? 0) + Number(bytes);
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
