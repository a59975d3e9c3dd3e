import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ensureRedisServer } from './redis-server-binary.js';

export interface RedisServerOptions {
  /** Folder for the AOF and RDB files; created if missing. */
  dir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Append-only file, fsync every second (default true). Tests turn it off for speed. */
  appendOnly?: boolean;
  /**
   * When the AOF is fsynced: `everysec` (default; a crash of the host may lose the last second)
   * or `always` (before each reply: what fault tests that kill Redis need).
   */
  appendFsync?: 'everysec' | 'always';
  /** Where to report installing redis-server. */
  log?: (line: string) => void;
  /**
   * Run in its own process group, so a Ctrl-C at the terminal reaches only the owner, which
   * stops Redis last, after the apps that use it (default false).
   */
  detached?: boolean;
  /**
   * Run as a Redis Cluster node (`cluster-enabled yes`, its `nodes.conf` in `dir`), failing over
   * a master that is silent for `nodeTimeoutMs`. See `startRedisCluster`.
   */
  cluster?: { nodeTimeoutMs: number };
}

export interface RunningRedisServer {
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /**
   * `unix://<dir>/redis.sock`, the same server over a Unix socket (cheaper per command than
   * loopback TCP, for apps on this host); absent when that path would be too long.
   */
  socketUrl?: string;
  port: number;
  pid: number;
  /** Asks Redis to shut down (flushing the AOF) and waits until it has exited. */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not become ready within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) done();
    };
    const onExit = (code: number | null) => fail(new Error(`redis-server exited with code ${code}:\n${output}`));
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    }
    function done() {
      cleanup();
      resolve();
    }
    function fail(error: Error) {
      cleanup();
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
  });
}

/**
 * Starts a `redis-server` as Herald needs it: loopback only, `maxmemory-policy noeviction`
 * (BullMQ requires it), AOF on unless turned off. Installs redis-server first where it can.
 */
export async function startRedisServer(options: RedisServerOptions): Promise<RunningRedisServer> {
  const binary = ensureRedisServer(options.log);
  mkdirSync(options.dir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freePort());
    const socket = join(options.dir, 'redis.sock');
    // sun_path holds 108 bytes: a deeper folder gets no socket (TCP only).
    const withSocket = Buffer.byteLength(socket) < 100;
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      ...(withSocket ? ['--unixsocket', socket, '--unixsocketperm', '700'] : []),
      '--dir',
      options.dir,
      '--appendonly',
      options.appendOnly === false ? 'no' : 'yes',
      '--appendfsync',
      options.appendFsync ?? 'everysec',
      // Rewrite the AOF when it has grown 4× since the last rewrite, not 2×: a rewrite forks and
      // re-serializes the whole dataset, and Herald writes every event several times (stream,
      // history, traces, jobs), so at full load 2× meant a rewrite every few seconds, a core's
      // share taken from the apps on this host.
      '--auto-aof-rewrite-percentage',
      '400',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      // Idempotency id sets expire whole; free them off the main thread.
      '--lazyfree-lazy-expire',
      'yes',
      ...(options.cluster === undefined
        ? []
        : [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(options.dir, 'nodes.conf'),
            '--cluster-node-timeout',
            String(options.cluster.nodeTimeoutMs),
          ]),
      '--daemonize',
      'no',
      '--loglevel',
      'notice',
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached === true });
    try {
      await waitForReady(child, 15_000);
    } catch (error) {
      child.kill('SIGKILL');
      const inUse = error instanceof Error && /Address already in use/.test(error.message);
      if (inUse && !options.port && attempt < 5) continue;
      throw error;
    }
    child.stdout?.resume();
    child.stderr?.resume();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return {
      url: `redis://127.0.0.1:${port}`,
      ...(withSocket ? { socketUrl: `unix://${socket}` } : {}),
      port,
      pid: child.pid ?? -1,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      },
    };
  }
}
