/**
 * bench/connections: how many devices one gateway process holds, what each costs in memory,
 * how fast it delivers pushes at that scale, and how many long-polls it keeps waiting.
 *
 *   npm run bench:connections [-- --devices 20000 --clients 5 --rounds 3 --polls 5000 --no-baseline]
 *
 * Everything runs on this machine, on 127.0.0.1: a fresh redis-server (no AOF: nothing here is
 * about durability), the gateway as its own process (`apps/gateway/src/main.ts`, as `npm start`
 * runs it, with its file-descriptor limit raised when allowed), `--clients` client processes
 * of socket.io-client sockets (WebSocket only; the load generator is not the limit), the
 * worker's side (an emitter through the gateway's sharded Socket.IO adapter) and the long-polls (fetch) in this process.
 *
 * 0. baseline: the same sockets on a bare Socket.IO server (no auth, no Redis, no state), the
 *    floor for the memory per connection on this Node.
 * 1. connect: every device connects and waits for `synced`; the gateway's RSS and heap before
 *    and after (settled, after a full GC) give the memory per connection.
 * 2. deliver: `--rounds` notifications per device through the emitter to the device rooms, at
 *    most `--window` in flight; deliveries/s and the emit → client latency.
 * 3. long-poll: `--polls` concurrent `GET /v1/notifications?waitMs=25000` (sockets still
 *    connected); memory per poll, then one history append per account and how long until every
 *    poll has answered.
 */
import { spawn, fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { io as connectClient } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { deviceRoom } from '@herald/contracts';
import type { ClientToServerEvents, Notification, ServerToClientEvents } from '@herald/contracts';
import { DeviceRegistry, DeviceTokens } from '@herald/devices';
import { freePort, startRedisServer } from '@herald/embedded-redis';
import { History } from '@herald/history';
import { partitionOf } from '@herald/priority-streams';
import { createKeys } from '@herald/redis';
import { cpuProfileFlags, root } from './processes.js';
import { ShardedEmitter } from './sharded-emitter.js';

const PREFIX = 'herald';
const SECRET = 'bench-device-secret-bench-device-secret';
/** The gateway's (or the bare server's) port: a free one, as other copies of Herald may run here. */
const PORT = await freePort();
const DEVICES_PER_ACCOUNT = 2;

/** Epoch milliseconds with a fraction, comparable across processes on one machine. */
const preciseNow = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Client process: holds a share of the device sockets and counts what they receive.

type ToClient =
  { cmd: 'connect'; url: string; tokens: string[]; concurrency: number } | { cmd: 'latencies' } | { cmd: 'drop'; count: number } | { cmd: 'close' };
type FromClient =
  | { type: 'connected'; connected: number; failed: number; firstError?: string }
  | { type: 'dropped'; count: number }
  | { type: 'received'; count: number }
  | { type: 'latencies'; values: number[] };

function clientProcess(): void {
  const sockets: Socket<ServerToClientEvents, ClientToServerEvents>[] = [];
  const latencies: number[] = [];
  let received = 0;
  let reported = 0;
  const send = (message: FromClient) => process.send?.(message);
  setInterval(() => {
    if (received !== reported) send({ type: 'received', count: (reported = received) });
  }, 50).unref();

  const onNotification = (notification: Notification) => {
    received++;
    const sentAt = notification.payload['sentAt'];
    if (typeof sentAt === 'number') latencies.push(preciseNow() - sentAt);
  };

  const connectOne = (url: string, token: string) =>
    new Promise<string | undefined>((resolve) => {
      const socket: Socket<ServerToClientEvents, ClientToServerEvents> = connectClient(url, {
        transports: ['websocket'],
        auth: { token },
        reconnection: false,
        forceNew: true,
        timeout: 60_000,
      });
      socket.on('notification', onNotification);
      socket.once('synced', () => resolve(undefined));
      socket.once('connect_error', (error) => resolve(error.message));
      sockets.push(socket);
    });

  const connectAll = async (url: string, tokens: string[], concurrency: number) => {
    let next = 0;
    let connected = 0;
    let failed = 0;
    let firstError: string | undefined;
    const lane = async () => {
      while (next < tokens.length) {
        const error = await connectOne(url, tokens[next++]!);
        if (error === undefined) connected++;
        else {
          failed++;
          firstError ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    send({ type: 'connected', connected, failed, ...(firstError === undefined ? {} : { firstError }) });
  };

  process.on('message', (message: ToClient) => {
    if (message.cmd === 'connect') void connectAll(message.url, message.tokens, message.concurrency);
    else if (message.cmd === 'latencies') send({ type: 'latencies', values: latencies.splice(0) });
    else if (message.cmd === 'drop') {
      const dropped = sockets.splice(0, message.count);
      for (const socket of dropped) socket.disconnect();
      send({ type: 'dropped', count: dropped.length });
    } else {
      for (const socket of sockets) socket.disconnect();
      setTimeout(() => process.exit(0), 200);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Driver.

interface ClientHandle {
  child: ChildProcess;
  received: number;
  next<T extends FromClient['type']>(type: T, timeoutMs: number): Promise<Extract<FromClient, { type: T }>>;
}

function startClient(): ClientHandle {
  const child = fork(fileURLToPath(import.meta.url), ['--client'], {
    execArgv: ['--conditions=development', '--import', 'tsx', '--max-semi-space-size=32'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, (message: FromClient) => void>();
  const handle: ClientHandle = {
    child,
    received: 0,
    next: (type, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`client: no ${type} within ${timeoutMs} ms`)), timeoutMs);
        waiting.set(type, (message) => {
          clearTimeout(timer);
          resolve(message as never);
        });
      }),
  };
  child.on('message', (message: FromClient) => {
    if (message.type === 'received') handle.received = message.count;
    const waiter = waiting.get(message.type);
    if (waiter !== undefined) {
      waiting.delete(message.type);
      waiter(message);
    }
  });
  return handle;
}

/** Loaded into the measured process: a full GC on SIGUSR2, so memory is measured without garbage. */
const GC_ON_SIGNAL = `data:text/javascript,process.on('SIGUSR2', () => globalThis.gc())`;

/**
 * The baseline: a bare Socket.IO server (WebSocket only, in-memory adapter, each socket in one
 * room, no auth, no state of its own), answering `synced` so the same clients can connect.
 */
const BARE_SOCKET_IO = `
import { createServer } from 'node:http';
import { Server } from 'socket.io';
const http = createServer((req, res) => {
  if (req.url === '/heap') res.end(String(process.memoryUsage().heapUsed));
  else { res.statusCode = req.url === '/readyz' ? 200 : 404; res.end(); }
});
const io = new Server(http, { transports: ['websocket'], serveClient: false });
io.on('connection', (socket) => {
  socket.join('d:' + socket.id);
  socket.emit('synced', { cursor: null, replayed: 0, reset: false });
});
http.listen(${PORT}, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

/** A node process with its open-file limit raised to hold every socket (where that is allowed). */
function spawnNode(args: string[], env: NodeJS.ProcessEnv, noFile: number): ChildProcess {
  const command = [process.execPath, '--expose-gc', '--import', GC_ON_SIGNAL, ...args].map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(' ');
  return spawn('sh', ['-c', `ulimit -n ${noFile} 2>/dev/null || true; exec ${command}`], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function startGateway(redisUrl: string, noFile: number): ChildProcess {
  const env = {
    REDIS_URL: redisUrl,
    GATEWAY_PORT: String(PORT),
    HERALD_KEY_PREFIX: PREFIX,
    HERALD_DEVICE_SECRET: SECRET,
    HERALD_LOG_LEVEL: 'warn',
    HERALD_GATEWAY_NODE_ID: 'bench',
  };
  return spawnNode([...cpuProfileFlags('gateway'), '--conditions=development', '--import', 'tsx', join(root, 'apps/gateway/src/main.ts')], env, noFile);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const ready = async () => (await fetch(`http://127.0.0.1:${PORT}/readyz`).catch(() => undefined))?.ok === true;

async function metric(name: string): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
  return Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN);
}

const gatewayHeap = () => metric('herald_nodejs_heap_size_used_bytes');
const bareHeap = async () => Number(await (await fetch(`http://127.0.0.1:${PORT}/heap`)).text());

interface Memory {
  rss: number;
  heap: number;
}

/**
 * Resident memory (from /proc) and V8 heap used of a process, settled and after a full GC; the
 * least of three samples (a gateway heartbeat in flight, one HGET per device, adds garbage).
 */
async function memoryOf(pid: number, heap: () => Promise<number>, settleMs = 3000): Promise<Memory> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  let least = { rss: Infinity, heap: Infinity };
  for (let sample = 0; sample < 3; sample++) {
    process.kill(pid, 'SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    least = { rss: Math.min(least.rss, rss), heap: Math.min(least.heap, await heap()) };
  }
  return least;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function openFilesLimit(pid: number): number {
  return Number(/Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ?? 0);
}

const percentile = (sorted: number[], p: number) => (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN).toFixed(1);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** Every client process connects its share of the tokens; resolves when all have answered. */
async function connectAll(clients: ClientHandle[], tokens: string[], concurrency: number): Promise<{ connected: number; failed: number; firstError?: string }> {
  const share = Math.ceil(tokens.length / clients.length);
  const answers = await Promise.all(
    clients.map((client, i) => {
      const done = client.next('connected', 600_000);
      client.child.send({ cmd: 'connect', url: `http://127.0.0.1:${PORT}`, tokens: tokens.slice(i * share, (i + 1) * share), concurrency } satisfies ToClient);
      return done;
    }),
  );
  const firstError = answers.find((answer) => answer.firstError !== undefined)?.firstError;
  return {
    connected: answers.reduce((sum, answer) => sum + answer.connected, 0),
    failed: answers.reduce((sum, answer) => sum + answer.failed, 0),
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** Each client process closes `count` of its sockets; resolves with how many closed. */
async function dropSockets(clients: ClientHandle[], perClient: number): Promise<number> {
  const answers = await Promise.all(
    clients.map((client) => {
      const done = client.next('dropped', 30_000);
      client.child.send({ cmd: 'drop', count: perClient } satisfies ToClient);
      return done;
    }),
  );
  return answers.reduce((sum, answer) => sum + answer.count, 0);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '20000' },
      clients: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      window: { type: 'string', default: '4000' },
      polls: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '40' },
      'no-baseline': { type: 'boolean', default: false },
      client: { type: 'boolean', default: false },
    },
  });
  const wanted = Number(values.devices);
  const clientCount = Number(values.clients);
  const rounds = Number(values.rounds);
  const window = Number(values.window);
  const concurrency = Number(values.concurrency);
  const noFile = wanted + 1000;

  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-conn-'));
  const server = await startRedisServer({ dir, appendOnly: false });
  const redis = new Redis(server.url);
  const keys = createKeys(PREFIX);
  const clients: ClientHandle[] = [];
  const children: ChildProcess[] = [];
  const report: string[] = [];
  try {
    // One socket is one file descriptor; the servers also need a few for Redis, the listener, stdio.
    const probe = spawnNode(['-e', 'setTimeout(() => {}, 5000)'], {}, noFile);
    children.push(probe);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const limit = openFilesLimit(probe.pid!);
    await stopProcess(probe);
    const devices = Math.min(wanted, limit - 500);
    if (devices < wanted)
      report.push(
        `| note | a process may open only ${fmt(limit)} files here (raising the limit was refused), so ${fmt(devices)} devices, not ${fmt(wanted)} |`,
      );
    const polls = Math.min(Number(values.polls), devices);
    const accounts = Math.ceil(devices / DEVICES_PER_ACCOUNT);

    console.log(`registering ${fmt(devices)} devices on ${fmt(accounts)} accounts ...`);
    const registry = new DeviceRegistry({ redis, keys, tokens: new DeviceTokens({ secret: SECRET, ttlSeconds: 3600 }) });
    const device = (i: number) => ({ accountId: `acct-${Math.floor(i / DEVICES_PER_ACCOUNT)}`, deviceId: `tv-${i % DEVICES_PER_ACCOUNT}` });
    const tokens: string[] = new Array<string>(devices);
    for (let i = 0; i < devices; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, devices - i) }, async (_, j) => {
          tokens[i + j] = (await registry.register({ ...device(i + j), platform: 'tv' })).token;
        }),
      );
    }
    for (let i = 0; i < clientCount; i++) clients.push(startClient());
    const perClient = Math.ceil(devices / clientCount);

    // 0. baseline: the same sockets on a bare Socket.IO server
    if (!values['no-baseline']) {
      const bare = spawnNode(['--input-type=module', '-e', BARE_SOCKET_IO], {}, noFile);
      children.push(bare);
      await waitFor(ready, 30_000, 'the bare Socket.IO server');
      const idle = await memoryOf(bare.pid!, bareHeap, 1000);
      console.log(`baseline: ${fmt(devices)} sockets on a bare Socket.IO server ...`);
      const { connected } = await connectAll(clients, tokens, concurrency);
      const full = await memoryOf(bare.pid!, bareHeap);
      report.push(
        `| baseline: bare Socket.IO | ${fmt(connected)} sockets: RSS ${kb((full.rss - idle.rss) / connected)} KB, V8 heap ${kb((full.heap - idle.heap) / connected)} KB per connection |`,
      );
      console.log(report.at(-1));
      await dropSockets(clients, perClient);
      await stopProcess(bare);
    }

    // 1. connect
    const gateway = startGateway(server.url, noFile);
    children.push(gateway);
    await waitFor(ready, 60_000, 'the gateway');
    const pid = gateway.pid!;
    const idle = await memoryOf(pid, gatewayHeap, 1000);
    const cpuConnect = cpuSeconds(pid);
    const connectStarted = Date.now();
    console.log(`connecting ${fmt(devices)} sockets from ${clientCount} client processes ...`);
    const { connected: up, failed, firstError } = await connectAll(clients, tokens, concurrency);
    const connectSeconds = (Date.now() - connectStarted) / 1000;
    if (failed > 0) console.log(`  ${failed} refused; first: ${firstError}`);
    const gatewayConnections = await metric('herald_gateway_connections');
    const online = await redis.eval(
      "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + redis.call('HLEN', k) end return n",
      0,
      `${PREFIX}:{a:*}:presence`,
    );
    const cpuPerConnect = ((cpuSeconds(pid) - cpuConnect) / up) * 1e6;
    const full = await memoryOf(pid, gatewayHeap);
    report.push(
      `| connect | ${fmt(up)} devices connected (gateway gauge ${fmt(gatewayConnections)}, presence fields ${fmt(Number(online))}), ${failed} refused, in ${connectSeconds.toFixed(1)} s (${fmt(up / connectSeconds)}/s, ${fmt(cpuPerConnect)} µs gateway CPU each) |`,
      `| memory per connection | RSS ${kb((full.rss - idle.rss) / up)} KB, V8 heap ${kb((full.heap - idle.heap) / up)} KB (gateway RSS ${mb(idle.rss)} → ${mb(full.rss)} MB, heap ${mb(idle.heap)} → ${mb(full.heap)} MB) |`,
    );
    console.log(report.slice(-2).join('\n'));

    // 2. deliver
    const emitter = new ShardedEmitter(redis, keys.socketIoPrefix);
    const total = up * rounds;
    const received = () => clients.reduce((sum, c) => sum + c.received, 0);
    const collectLatencies = async () => {
      const values: number[] = [];
      for (const client of clients) {
        const reply = client.next('latencies', 30_000);
        client.child.send({ cmd: 'latencies' } satisfies ToClient);
        values.push(...(await reply).values);
      }
      return values.sort((a, b) => a - b);
    };
    const base = Date.now();
    const notificationFor = (i: number, round: number): [string, Notification] => {
      const { accountId, deviceId } = device(i);
      return [
        deviceRoom(accountId, deviceId),
        {
          id: `bench-${round}-${i}`,
          cursor: `${base + round}-${i}`,
          type: 'mylist.updated',
          accountId,
          payload: { sentAt: preciseNow(), titleId: 'title-80057281' },
          createdAt: new Date().toISOString(),
          priority: 'medium',
        },
      ];
    };
    const receivedBefore = received();
    console.log(`delivering ${fmt(total)} notifications (${rounds} per device, at most ${fmt(window)} in flight) ...`);
    const cpuDeliver = cpuSeconds(pid);
    const deliverStarted = Date.now();
    let emitted = 0;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < devices; i++) {
        while (emitted - (received() - receivedBefore) >= window) await new Promise((resolve) => setTimeout(resolve, 2));
        const [room, notification] = notificationFor(i, round);
        emitter.to(room).emit('notification', notification);
        emitted++;
      }
    }
    await waitFor(() => received() - receivedBefore >= total, 120_000, 'every notification');
    const deliverSeconds = (Date.now() - deliverStarted) / 1000;
    const cpuPerDelivery = ((cpuSeconds(pid) - cpuDeliver) / total) * 1e6;
    const latencies = await collectLatencies();
    report.push(
      `| deliver | ${fmt(total)} notifications to ${fmt(up)} devices in ${deliverSeconds.toFixed(1)} s: ${fmt(total / deliverSeconds)}/s; emit → client p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms; ${cpuPerDelivery.toFixed(0)} µs gateway CPU each |`,
    );
    console.log(report.at(-1));

    // 2b. latency at a moderate rate: 1 notification per ms for 3 s, to devices spread over the node
    const paced = 3000;
    const pacedBefore = received();
    const pacedStarted = Date.now();
    for (let n = 0; n < paced; n++) {
      while (Date.now() - pacedStarted < n) await new Promise((resolve) => setImmediate(resolve));
      const [room, notification] = notificationFor((n * 7) % devices, rounds + 1 + Math.floor((n * 7) / devices));
      emitter.to(room).emit('notification', notification);
    }
    await waitFor(() => received() - pacedBefore >= paced, 30_000, 'the paced notifications');
    const pacedLatencies = await collectLatencies();
    report.push(
      `| latency at 1,000/s | emit → client p50 ${percentile(pacedLatencies, 50)} ms, p99 ${percentile(pacedLatencies, 99)} ms (${fmt(paced)} notifications) |`,
    );
    console.log(report.at(-1));

    // 3. long-poll, with as many sockets closed first as there will be polls (file descriptors)
    const socketsLeft = up - (await dropSockets(clients, Math.ceil(polls / clientCount)));
    await waitFor(async () => (await metric('herald_gateway_connections')) <= socketsLeft, 30_000, 'the dropped sockets to close');
    console.log(`long-polling ${fmt(polls)} devices at once (${fmt(socketsLeft)} sockets still connected) ...`);
    const history = new History({ redis, keys });
    const beforePolls = await memoryOf(pid, gatewayHeap, 1000);
    const answered: number[] = [];
    let wokenAt = 0;
    const pollsDone = Promise.all(
      tokens.slice(0, polls).map(async (token) => {
        const response = await fetch(`http://127.0.0.1:${PORT}/v1/notifications?waitMs=25000`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await response.json()) as { notifications: unknown[] };
        if (body.notifications.length > 0) answered.push(Date.now() - wokenAt);
      }),
    );
    await waitFor(async () => (await metric('herald_gateway_long_polls')) >= polls, 60_000, `${polls} waiting long-polls`);
    const waiting = await memoryOf(pid, gatewayHeap, 2000);
    const stillWaiting = await metric('herald_gateway_long_polls');
    wokenAt = Date.now();
    const pollAccounts = Math.ceil(polls / DEVICES_PER_ACCOUNT);
    for (let a = 0; a < pollAccounts; a += 500) {
      const accountIds = Array.from({ length: Math.min(500, pollAccounts - a) }, (_, j) => `acct-${a + j}`);
      await Promise.all(
        accountIds.map((accountId, j) =>
          history.append(accountId, [
            {
              id: `poll-${a + j}`,
              type: 'plan.changed',
              priority: 'high',
              accountId,
              createdAt: Date.now(),
              acceptedAt: Date.now(),
              payload: {},
              devices: ['tv-0', 'tv-1'],
            },
          ]),
        ),
      );
      // As the router does: one announcement per partition of the accounts whose history grew.
      const byPartition = new Map<number, string[]>();
      for (const accountId of accountIds) byPartition.set(partitionOf(accountId, 4), [...(byPartition.get(partitionOf(accountId, 4)) ?? []), accountId]);
      await Promise.all([...byPartition].map(([partition, ids]) => history.announce('high', partition, ids)));
    }
    await pollsDone;
    const wakeSeconds = (Date.now() - wokenAt) / 1000;
    answered.sort((a, b) => a - b);
    report.push(
      `| long-poll | ${fmt(stillWaiting)} waiting at once (gateway gauge) beside ${fmt(socketsLeft)} sockets, ${kb((waiting.rss - beforePolls.rss) / polls)} KB RSS / ${kb((waiting.heap - beforePolls.heap) / polls)} KB heap each; after one append per account, ${fmt(answered.length)} answered with it within ${wakeSeconds.toFixed(2)} s (p50 ${percentile(answered, 50)} ms, p99 ${percentile(answered, 99)} ms) |`,
    );
    console.log(report.at(-1));

    console.log(`\nbench/connections, node ${process.version}, ${new Date().toISOString()}, ${fmt(devices)} devices, ${clientCount} client processes\n`);
    console.log('| phase | result |\n| --- | --- |');
    for (const line of report) console.log(line);
  } finally {
    for (const client of clients) client.child.send({ cmd: 'close' } satisfies ToClient);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const client of clients) client.child.kill('SIGKILL');
    for (const child of children) await stopProcess(child);
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--client')) {
  clientProcess();
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
