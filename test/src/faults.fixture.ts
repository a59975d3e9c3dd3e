import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as connectClient } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import type { ClientToServerEvents, Notification, ServerToClientEvents } from '@herald/contracts';
import { RedisClusterNode, freePort, startRedisCluster } from '@herald/embedded-redis';
import type { RunningRedisCluster } from '@herald/embedded-redis';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { waitFor } from '@herald/testing';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SERVICE_KEY = 'faults-service-key';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type AppName = 'ingest' | 'worker' | 'gateway';

/** One Herald app as its own OS process (`node apps/<app>/src/main.ts`), as in production. */
export class AppProcess {
  private child: ChildProcess | undefined;
  private output = '';
  /** Set by `kill9` and `stop`: an exit the test caused, not one to report. */
  private stopping = false;

  constructor(
    readonly name: string,
    private readonly app: AppName,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How the process ended when nothing in the test ended it, with its last output; undefined while it runs. */
  unexpectedExit(): string | undefined {
    const child = this.child;
    if (child === undefined || this.stopping || (child.exitCode === null && child.signalCode === null)) return undefined;
    return `${this.name} exited by itself (code ${child.exitCode}, signal ${child.signalCode}):\n${this.output}`;
  }

  /** Changes the environment of the next start. */
  setEnv(extra: Record<string, string>): void {
    Object.assign(this.env, extra);
  }

  /** Starts the process and waits until it answers /readyz. */
  async start(): Promise<void> {
    this.output = '';
    this.stopping = false;
    const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', `apps/${this.app}/src/main.ts`], {
      cwd: root,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exitedOrReady = async () =>
      child.exitCode !== null ||
      (await fetch(`${this.url}/readyz`).then(
        (res) => res.ok,
        () => false,
      ));
    await waitFor(`${this.name} to be ready`, exitedOrReady, { timeoutMs: 30_000, intervalMs: 100 }).catch((error: Error) => {
      throw new Error(`${error.message}:\n${this.output}`);
    });
    if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}:\n${this.output}`);
  }

  /** `kill -9`: no shutdown of any kind. */
  async kill9(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** A graceful stop (SIGTERM), by pid; SIGKILL after 10 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Redis with the AOF fsynced before every reply, killable and restartable on its port with its
 * data: a restartable node of its own, as the Cluster harness runs each of its nodes.
 */
export class FaultRedis extends RedisClusterNode {
  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'herald-faults-'));
    super(dir, { dir, appendFsync: 'always' });
  }

  override async stop(): Promise<void> {
    await super.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  /** The master's id, for a replica. */
  masterId: string | undefined;
  slots: [number, number][];
}

/**
 * A local Redis Cluster of 3 masters with a replica each (cluster-node-timeout 1 s, so a killed
 * master is replaced within seconds), whose nodes can be failed over, killed and restarted.
 */
export class FaultCluster {
  private cluster: RunningRedisCluster | undefined;
  private dir: string | undefined;

  get url(): string {
    return this.running.url;
  }

  get nodes(): RedisClusterNode[] {
    return this.running.nodes;
  }

  private get running(): RunningRedisCluster {
    if (this.cluster === undefined) throw new Error('the fault cluster is not started');
    return this.cluster;
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'herald-faults-cluster-'));
    this.cluster = await startRedisCluster({ dir: this.dir, masters: 3, replicasPerMaster: 1, appendOnly: false, nodeTimeoutMs: 1000 });
  }

  /** Every node as a live node sees it (`CLUSTER NODES`). */
  async describe(): Promise<ClusterNodeInfo[]> {
    for (const node of this.nodes) {
      if (node.pid === undefined) continue;
      const text = await node.cli('CLUSTER', 'NODES').catch(() => undefined);
      if (text === undefined) continue;
      return text
        .trim()
        .split('\n')
        .map((line) => {
          const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
          return {
            id: id!,
            port: Number(/:(\d+)@/.exec(address!)?.[1]),
            master: flags!.includes('master'),
            failed: flags!.split(',').includes('fail'),
            masterId: masterId === '-' ? undefined : masterId,
            slots: slots
              .filter((range) => /^\d/.test(range))
              .map((range) => {
                const [from, to] = range.split('-').map(Number);
                return [from!, to ?? from!] as [number, number];
              }),
          };
        });
    }
    throw new Error('no live node to describe the cluster');
  }

  /** The node process serving a slot as master now, and its replica's. */
  async masterAndReplica(slot: number): Promise<{ master: RedisClusterNode; replica: RedisClusterNode }> {
    const nodes = await this.describe();
    const master = nodes.find((n) => n.master && !n.failed && n.slots.some(([from, to]) => slot >= from && slot <= to));
    const replica = nodes.find((n) => !n.master && n.masterId === master?.id);
    if (master === undefined || replica === undefined) throw new Error(`slot ${slot} has no master with a replica`);
    return { master: this.byPort(master.port), replica: this.byPort(replica.port) };
  }

  /** Waits until `node` is a master serving slots, and every live node agrees the cluster is ok. */
  async waitUntilMaster(node: RedisClusterNode, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `node ${node.port} to become a serving master`,
      async () => {
        const role = RedisClusterNode.fields(await node.cli('INFO', 'replication').catch(() => '')).get('role');
        const states = await Promise.all(
          this.nodes
            .filter((n) => n.pid !== undefined)
            .map(async (n) => RedisClusterNode.fields(await n.cli('CLUSTER', 'INFO').catch(() => '')).get('cluster_state')),
        );
        return role === 'master' && states.every((state) => state === 'ok');
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  async waitUntilHealthy(): Promise<void> {
    await this.running.waitUntilHealthy(60_000);
  }

  private byPort(port: number): RedisClusterNode {
    const node = this.nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`no node on port ${port}`);
    return node;
  }

  async stop(): Promise<void> {
    await this.cluster?.stop();
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What one web device's socket received: every `notification` as it came, no duplicate filter. */
export interface WebDevice {
  accountId: string;
  deviceId: string;
  received: Notification[];
  /** Reconnects, each to the other gateway. */
  reconnects: number;
  close(): void;
}

/**
 * A web device on the official socket.io-client that keeps its newest cursor and, whenever its
 * connection drops or is refused, connects again with that cursor, to the next gateway of the
 * list (a load balancer sending it elsewhere). Every receipt is recorded raw.
 */
export function webDevice(accountId: string, deviceId: string, token: string, gateways: () => string[], first: number): WebDevice {
  const device: WebDevice = { accountId, deviceId, received: [], reconnects: 0, close: () => undefined };
  let cursor: string | undefined;
  let target = first;
  let closed = false;
  let socket: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;
  const open = () => {
    if (closed) return;
    const urls = gateways();
    const s: Socket<ServerToClientEvents, ClientToServerEvents> = connectClient(urls[target % urls.length]!, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token, ...(cursor === undefined ? {} : { cursor }) },
    });
    socket = s;
    s.on('notification', (notification, ack) => {
      device.received.push(notification);
      cursor = notification.cursor;
      ack?.();
    });
    s.on('synced', (synced) => {
      if (synced.cursor !== null) cursor = synced.cursor;
    });
    let again = false;
    const retry = () => {
      if (again || closed) return;
      again = true;
      s.removeAllListeners();
      s.disconnect();
      device.reconnects++;
      target++;
      setTimeout(open, 100 + Math.floor(Math.random() * 200));
    };
    s.on('disconnect', retry);
    s.on('connect_error', retry);
  };
  open();
  device.close = () => {
    closed = true;
    socket?.removeAllListeners();
    socket?.disconnect();
  };
  return device;
}

/** An event the load generator offered, and whether ingest has accepted it (202 accepted or duplicate). */
export interface OfferedEvent {
  id: string;
  accountId: string;
  type: string;
  priority: 'high' | 'medium' | 'low';
  accepted: boolean;
}

/** The event types the load uses, one per priority; high and medium go to every platform, low to web and TV. */
export const LOAD_TYPES = [
  { type: 'plan.changed', priority: 'high' },
  { type: 'mylist.updated', priority: 'medium' },
  { type: 'recommendations.updated', priority: 'low' },
] as const;

/**
 * Offers events to ingest at a steady rate, a random account and type each, with explicit ids;
 * an event not accepted (ingest down, Redis down, 5xx, 429) is offered again with the same id
 * until it is, as a service with at-least-once retries would.
 */
export class LoadGenerator {
  readonly offered: OfferedEvent[] = [];
  private readonly retrying: OfferedEvent[] = [];
  private counter = 0;

  constructor(
    private readonly ingestUrl: () => string,
    private readonly accounts: readonly string[],
  ) {}

  get accepted(): OfferedEvent[] {
    return this.offered.filter((event) => event.accepted);
  }

  /** Offers `perSecond` new events a second for `ms`, retrying the refused ones along. */
  async run(perSecond: number, ms: number, types: readonly (typeof LOAD_TYPES)[number][] = LOAD_TYPES): Promise<void> {
    const tickMs = 50;
    const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
    const end = Date.now() + ms;
    const inFlight: Promise<void>[] = [];
    while (Date.now() < end) {
      const batch: OfferedEvent[] = [...new Set(this.retrying.splice(0))].filter((event) => !event.accepted);
      for (let i = 0; i < perTick; i++) {
        const kind = types[Math.floor(Math.random() * types.length)]!;
        const event: OfferedEvent = {
          id: `ev-${++this.counter}`,
          accountId: this.accounts[Math.floor(Math.random() * this.accounts.length)]!,
          type: kind.type,
          priority: kind.priority,
          accepted: false,
        };
        this.offered.push(event);
        batch.push(event);
      }
      inFlight.push(this.offer(batch));
      await sleep(tickMs);
    }
    await Promise.all(inFlight);
  }

  /** Offers the events not accepted yet until ingest takes them all. */
  async settle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.retrying.splice(0);
      const left = this.offered.filter((event) => !event.accepted);
      if (left.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${left.length} events never accepted`);
      for (let i = 0; i < left.length; i += 500) await this.offer(left.slice(i, i + 500));
      await sleep(200);
    }
  }

  /** One event of a given type for an account (outside the random load). */
  async send(accountId: string, kind: (typeof LOAD_TYPES)[number]): Promise<OfferedEvent> {
    const event: OfferedEvent = { id: `ev-${++this.counter}`, accountId, type: kind.type, priority: kind.priority, accepted: false };
    this.offered.push(event);
    await this.offer([event]);
    await this.settle();
    return event;
  }

  private async offer(events: OfferedEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      const res = await fetch(`${this.ingestUrl()}/v1/events/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SERVICE_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: events.map(({ id, accountId, type }) => ({ id, accountId, type, payload: { id } })) }),
        signal: AbortSignal.timeout(5_000),
      });
      if (res.status !== 202) {
        await res.body?.cancel();
        this.retrying.push(...events);
        return;
      }
      const { results } = (await res.json()) as { results: { index: number; status?: string }[] };
      for (const result of results) {
        const event = events[result.index]!;
        if (result.status === 'accepted' || result.status === 'duplicate') event.accepted = true;
        else this.retrying.push(event);
      }
    } catch {
      this.retrying.push(...events);
    }
  }
}

export interface FaultStackOptions {
  accounts: number;
  /** Extra environment for every app. */
  env?: Record<string, string>;
  /** Workers to run, each with its own environment on top (default: one for every priority and role). */
  workers?: Record<string, string>[];
  /**
   * `cluster`: a Redis Cluster of 3 masters with a replica each instead of one Redis, the apps
   * waiting for a replica's acknowledgement of what must survive a failover
   * (HERALD_REDIS_WAIT_REPLICAS=1). Default `standalone`.
   */
  redis?: 'standalone' | 'cluster';
}

/**
 * Herald as separate processes, each killable with `kill -9`: Redis (AOF fsynced always),
 * ingest, worker(s) and two gateway nodes, on free ports; web and iOS devices on every account.
 */
export class FaultStack {
  readonly redis = new FaultRedis();
  readonly cluster = new FaultCluster();
  ingest!: AppProcess;
  workers: AppProcess[] = [];
  gateways: AppProcess[] = [];
  readonly prefix = `faults-${process.pid}`;
  readonly accounts: string[];
  readonly web: WebDevice[] = [];
  readonly iosTokens = new Map<string, string>();
  load!: LoadGenerator;
  private client: RedisClient | undefined;

  constructor(private readonly options: FaultStackOptions) {
    this.accounts = Array.from({ length: options.accounts }, (_, i) => `acct-${i}`);
  }

  private get onCluster(): boolean {
    return this.options.redis === 'cluster';
  }

  /** The URL the apps are given. */
  get redisUrl(): string {
    return this.onCluster ? this.cluster.url : this.redis.url;
  }

  async start(): Promise<void> {
    if (this.onCluster) await this.cluster.start();
    else await this.redis.start();
    const env = {
      NODE_ENV: 'development',
      REDIS_URL: this.redisUrl,
      ...(this.onCluster ? { HERALD_REDIS_WAIT_REPLICAS: '1', HERALD_REDIS_WAIT_TIMEOUT_MS: '1000' } : {}),
      HERALD_KEY_PREFIX: this.prefix,
      HERALD_SERVICE_KEYS: `faults:${SERVICE_KEY}`,
      HERALD_DEVICE_SECRET: 'faults-device-secret-faults-device-secret',
      HERALD_LOG_LEVEL: 'error',
      HERALD_WORKER_LEASE_MS: '2000',
      HERALD_WORKER_RECLAIM_IDLE_MS: '1500',
      HERALD_PRESENCE_TTL_MS: '3000',
      // These specs count deliveries under crashes; load shedding would add refusals driven by
      // whatever else loads this shared machine (it has specs of its own that drive it).
      HERALD_SHEDDING: 'false',
      ...this.options.env,
    };
    const ingestPort = await freePort();
    this.ingest = new AppProcess('ingest', 'ingest', ingestPort, { ...env, INGEST_PORT: String(ingestPort) });
    const workerEnvs = this.options.workers ?? [{}];
    for (const [i, extra] of workerEnvs.entries()) {
      const port = await freePort();
      this.workers.push(new AppProcess(`worker-${i}`, 'worker', port, { ...env, WORKER_PORT: String(port), ...extra }));
    }
    for (const node of ['a', 'b']) {
      const port = await freePort();
      this.gateways.push(new AppProcess(`gateway-${node}`, 'gateway', port, { ...env, GATEWAY_PORT: String(port), HERALD_GATEWAY_NODE_ID: `gw-${node}` }));
    }
    await Promise.all([this.ingest, ...this.workers, ...this.gateways].map((app) => app.start()));
    this.client = createRedis({ url: this.redisUrl, name: 'faults-check' });
    // Refused while Redis is down in a test: ioredis reconnects by itself.
    this.client.on('error', () => undefined);
    this.load = new LoadGenerator(() => this.ingest.url, this.accounts);
    for (const [i, accountId] of this.accounts.entries()) {
      const web = await this.register(accountId, 'web', 'web-1');
      this.web.push(webDevice(accountId, 'web-1', web, () => this.gateways.map((g) => g.url), i));
      this.iosTokens.set(accountId, await this.register(accountId, 'ios', 'ios-1'));
    }
    await waitFor('every web device online', async () => (await this.onlineWebDevices()) === this.accounts.length, { timeoutMs: 20_000, intervalMs: 100 });
  }

  async stop(): Promise<void> {
    for (const device of this.web) device.close();
    await Promise.all([this.ingest, ...this.workers, ...this.gateways].filter(Boolean).map((app) => app.stop()));
    if (this.client !== undefined) await closeRedis(this.client);
    await this.redis.stop();
    await this.cluster.stop();
  }

  /** How many web devices have presence in Redis. */
  async onlineWebDevices(): Promise<number> {
    const keys = createKeys(this.prefix);
    const counts = await Promise.all(this.accounts.map((a) => this.client!.hlen(keys.presence(a))));
    return counts.filter((n) => n > 0).length;
  }

  private async register(accountId: string, platform: 'web' | 'ios', deviceId: string): Promise<string> {
    const res = await fetch(`${this.ingest.url}/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SERVICE_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ accountId, platform, deviceId, pushToken: `push-${accountId}` }),
    });
    if (res.status !== 201) throw new Error(`device registration answered ${res.status}`);
    return ((await res.json()) as { token: string }).token;
  }

  /** Event ids in an account's history, in order. */
  async historyIds(accountId: string): Promise<string[]> {
    const keys = createKeys(this.prefix);
    const entries = (await this.client!.xrange(keys.history(accountId), '-', '+')) as [string, string[]][];
    return entries.map(([, fields]) => (JSON.parse(fields[fields.indexOf('e') + 1]!) as { id: string }).id);
  }

  /** Everything the account's iOS device pulls, page by page, from no cursor. */
  async pulled(accountId: string): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    for (;;) {
      const query = after === undefined ? '' : `after=${after}&`;
      const res = await fetch(`${this.gateways[1]!.url}/v1/notifications?${query}limit=500`, {
        headers: { authorization: `Bearer ${this.iosTokens.get(accountId)}` },
      });
      if (res.status !== 200) throw new Error(`pull answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { notifications: { id: string }[]; cursor: string | null };
      ids.push(...body.notifications.map((n) => n.id));
      if (body.notifications.length < 500 || body.cursor === null) return ids;
      after = body.cursor;
    }
  }

  /**
   * Waits until every web device has received every accepted event of its account, then
   * reports, per check, what is lost or twice: on the sockets (raw receipts), in history, in
   * what the iOS devices pull.
   */
  async verify(drainMs = 30_000): Promise<{ accepted: number; lost: string[]; twice: string[]; history: string[]; pull: string[] }> {
    try {
      return await this.check(drainMs);
    } catch (error) {
      // A process that died by itself is the finding, whatever check it made fail.
      const died = [this.ingest, ...this.workers, ...this.gateways].flatMap((app) => app?.unexpectedExit() ?? []);
      if (died.length > 0) throw new Error(died.join('\n'), { cause: error });
      throw error;
    }
  }

  private async check(drainMs: number): Promise<{ accepted: number; lost: string[]; twice: string[]; history: string[]; pull: string[] }> {
    await this.load.settle();
    const accepted = this.load.accepted;
    const byAccount = new Map<string, string[]>();
    for (const event of accepted) byAccount.set(event.accountId, [...(byAccount.get(event.accountId) ?? []), event.id]);
    const missing = () =>
      this.web.flatMap((device) => {
        const got = new Set(device.received.map((n) => n.id));
        return (byAccount.get(device.accountId) ?? []).filter((id) => !got.has(id)).map((id) => `${device.accountId}/${id}`);
      });
    await waitFor('every accepted event on its web device', () => missing().length === 0, { timeoutMs: drainMs, intervalMs: 100 }).catch(() => undefined);
    const lost = missing();
    const twice = this.web.flatMap((device) => {
      const counts = new Map<string, number>();
      for (const n of device.received) counts.set(n.id, (counts.get(n.id) ?? 0) + 1);
      return [...counts].filter(([, count]) => count > 1).map(([id, count]) => `${device.accountId}/${id}×${count}`);
    });
    const history: string[] = [];
    const pull: string[] = [];
    for (const accountId of this.accounts) {
      const expected = byAccount.get(accountId) ?? [];
      const inHistory = await this.historyIds(accountId);
      if (inHistory.length !== new Set(inHistory).size || [...expected].sort().join() !== [...new Set(inHistory)].sort().join()) history.push(accountId);
      const mobile = accepted.filter((e) => e.accountId === accountId && e.priority !== 'low').map((e) => e.id);
      const pulled = await this.pulled(accountId);
      if (pulled.length !== new Set(pulled).size || [...mobile].sort().join() !== [...pulled].sort().join()) pull.push(accountId);
    }
    return { accepted: accepted.length, lost, twice, history, pull };
  }
}

/** A FaultStack started before the suite's tests and stopped, every process by pid, after them. */
export function useFaultStack(options: FaultStackOptions): FaultStack {
  const stack = new FaultStack(options);
  before(async function () {
    this.timeout(120_000);
    await stack.start();
  });
  after(async function () {
    this.timeout(60_000);
    await stack.stop();
  });
  return stack;
}
