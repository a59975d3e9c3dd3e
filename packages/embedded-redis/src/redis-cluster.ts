import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ensureRedisServer } from './redis-server-binary.js';
import { startRedisServer } from './redis-server-process.js';
import type { RedisServerOptions, RunningRedisServer } from './redis-server-process.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RedisClusterOptions {
  /** Parent folder: node `i` keeps its AOF and `nodes.conf` in `<dir>/node-<i>`. */
  dir: string;
  /** Masters, each owning an equal share of the 16384 slots (default 3). */
  masters?: number;
  /** Replicas of each master (default 0). With one, a master killed is replaced by its replica. */
  replicasPerMaster?: number;
  /** As for one server (default true). */
  appendOnly?: boolean;
  appendFsync?: RedisServerOptions['appendFsync'];
  /** How long a master may be silent before the others mark it failed (default 2000 ms). */
  nodeTimeoutMs?: number;
  log?: (line: string) => void;
}

/** One process of a local cluster, restartable on its port with its data and `nodes.conf`. */
export class RedisClusterNode {
  private server: RunningRedisServer | undefined;
  port = 0;

  constructor(
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** `redis://127.0.0.1:<port>`: this node alone (for CLUSTER and INFO commands). */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.server?.pid;
  }

  /** Starts (or restarts, after `kill9` or `stop`) the node on its port, with its data. */
  async start(): Promise<void> {
    this.server = await startRedisServer({ ...this.options, dir: this.dir, ...(this.port === 0 ? {} : { port: this.port }) });
    this.port = this.server.port;
  }

  /** `kill -9`: no shutdown, no AOF flush. Resolves once the process is gone. */
  async kill9(): Promise<void> {
    const pid = this.server?.pid;
    this.server = undefined;
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 250; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop();
  }

  /** Runs a redis-cli command against this node; its output. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run(redisCli(), ['-h', '127.0.0.1', '-p', String(this.port), ...args], { timeout: 10_000 });
    return stdout;
  }

  /** Fields of `INFO <section>` or `CLUSTER INFO` output. */
  static fields(text: string): Map<string, string> {
    return new Map(
      text
        .split(/\r?\n/)
        .map((line) => line.split(':'))
        .filter((parts): parts is [string, string] => parts.length === 2)
        .map(([name, value]) => [name.trim(), value.trim()]),
    );
  }
}

export interface RunningRedisCluster {
  /** `redis+cluster://127.0.0.1:<port of the first node>`: the URL Herald's apps take. */
  url: string;
  /** Every node, masters first as created (their roles change with failovers). */
  nodes: RedisClusterNode[];
  /** Waits until every node reports `cluster_state:ok` and every replica is in sync. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node. */
  stop(): Promise<void>;
}

/** The redis-cli next to redis-server (or on the PATH). */
function redisCli(): string {
  const beside = join(dirname(ensureRedisServer()), 'redis-cli');
  return existsSync(beside) ? beside : 'redis-cli';
}

/**
 * Starts a local Redis Cluster as an operator would: plain `redis-server --cluster-enabled yes`
 * processes on free ports, joined by `redis-cli --cluster create … --cluster-yes`, and waits
 * until it serves every slot. For tests and benches; production clusters are the operator's.
 */
export async function startRedisCluster(options: RedisClusterOptions): Promise<RunningRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  if (!Number.isInteger(masters) || masters < 3) throw new RangeError('a Redis Cluster needs at least 3 masters');
  const serverOptions: RedisServerOptions = {
    dir: options.dir,
    appendOnly: options.appendOnly ?? true,
    ...(options.appendFsync === undefined ? {} : { appendFsync: options.appendFsync }),
    ...(options.log === undefined ? {} : { log: options.log }),
    cluster: { nodeTimeoutMs: options.nodeTimeoutMs ?? 2000 },
  };
  const nodes = Array.from({ length: masters * (1 + replicas) }, (_, i) => {
    const dir = join(options.dir, `node-${i}`);
    mkdirSync(dir, { recursive: true });
    return new RedisClusterNode(dir, serverOptions);
  });
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    await run(redisCli(), ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: 60_000,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const cluster: RunningRedisCluster = {
    url: `redis+cluster://127.0.0.1:${nodes[0]!.port}`,
    nodes,
    async waitUntilHealthy(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await healthy(nodes, masters)) return;
        if (Date.now() > deadline) throw new Error(`the Redis Cluster is not healthy after ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    stop,
  };
  try {
    await cluster.waitUntilHealthy();
  } catch (error) {
    await stop();
    throw error;
  }
  return cluster;
}

/** Every node up, agreeing the cluster is ok with every slot served, `masters` masters, replicas in sync. */
async function healthy(nodes: readonly RedisClusterNode[], masters: number): Promise<boolean> {
  try {
    let masterCount = 0;
    for (const node of nodes) {
      const info = RedisClusterNode.fields(await node.cli('CLUSTER', 'INFO'));
      if (info.get('cluster_state') !== 'ok' || info.get('cluster_slots_ok') !== '16384' || info.get('cluster_known_nodes') !== String(nodes.length))
        return false;
      const replication = RedisClusterNode.fields(await node.cli('INFO', 'replication'));
      if (replication.get('role') === 'master') masterCount++;
      else if (replication.get('master_link_status') !== 'up') return false;
    }
    return masterCount === masters;
  } catch {
    return false;
  }
}
