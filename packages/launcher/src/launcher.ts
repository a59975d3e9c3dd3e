import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { HeraldConfig } from '@herald/config';
import type { RunningRedisServer } from '@herald/embedded-redis';
import { listenOn } from '@herald/runtime';
import { appsToRun } from './apps.js';
import type { AppProcess } from './apps.js';
import { startEmbeddedRedis } from './embedded-redis.js';

/** The variable that sets each app's port, for messages. */
export const PORT_VARIABLES = {
  ingest: 'INGEST_PORT',
  worker: 'WORKER_PORT',
  gateway: 'GATEWAY_PORT',
  dashboard: 'DASHBOARD_PORT',
  demo: 'DEMO_PORT',
} as const;

/**
 * Checks that every app's port is free before anything starts (listening on it as the app will,
 * then closing): a port clash stops `npm start` with one line naming the variable, rather than
 * an app's stack trace after Redis and the apps before it started.
 */
export async function checkPortsFree(apps: readonly AppProcess[], ports: HeraldConfig['ports']): Promise<void> {
  for (const app of apps) {
    const port = app.portOf(ports);
    if (port === undefined || port === 0) continue;
    const probe = createServer();
    await listenOn(probe, port, PORT_VARIABLES[app.name]);
    await new Promise((resolve) => probe.close(resolve));
  }
}

export interface LauncherOptions {
  config: HeraldConfig;
  /** The repository root: apps are found and the embedded Redis keeps its data under it. */
  root: string;
  env: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RunningHerald {
  /** The Redis the apps use, as a `redis://` URL (for redis-cli and other tools). */
  redisUrl: string;
  /** The URL the apps were given: the embedded Redis's Unix socket where it has one. */
  appsRedisUrl: string;
  /** Stops the apps (SIGTERM, they finish in-flight work), then the embedded Redis. */
  stop(): Promise<void>;
  /** Resolves when an app exits on its own; the launcher then stops the rest. */
  exited: Promise<{ app: string; code: number | null }>;
}

/**
 * Polls an app's URL (its /readyz) until it answers 2xx; fails early when the app's process,
 * if given, exits first.
 */
export async function waitUntilReady(url: string, { child, timeoutMs = 30_000 }: { child?: ChildProcess; timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before ${url} was ready`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

/** Sends SIGTERM to each process still running and waits for all to exit; SIGKILL after `killAfterMs`. */
export async function stopProcesses(children: readonly ChildProcess[], killAfterMs = 15_000): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), killAfterMs).unref();
        }),
    ),
  );
}

/** Runs the embedded Redis (unless REDIS_URL is set) and every app the config runs (`appsToRun`), each in its own process. */
export async function launch({ config, root, env, log = console.log }: LauncherOptions): Promise<RunningHerald> {
  const apps = appsToRun(config);
  await checkPortsFree(apps, config.ports);
  let redis: RunningRedisServer | undefined;
  let redisUrl = config.redisUrl;
  /** What the apps connect to: the embedded Redis's Unix socket where it has one. */
  let appsRedisUrl = redisUrl;
  if (redisUrl === undefined) {
    redis = await startEmbeddedRedis(join(config.dataDir ?? join(root, '.herald'), 'redis'), log);
    redisUrl = redis.url;
    appsRedisUrl = redis.socketUrl ?? redis.url;
  }

  const children: { name: string; child: ChildProcess }[] = [];
  let resolveExit: (value: { app: string; code: number | null }) => void = () => undefined;
  const exited = new Promise<{ app: string; code: number | null }>((resolve) => (resolveExit = resolve));
  let stopping = false;

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stopProcesses(children.map(({ child }) => child));
    await redis?.stop();
  };

  try {
    for (const app of apps) {
      // Each app in its own process group, so a Ctrl-C at the terminal reaches only the launcher,
      // which stops the apps before Redis. The IPC channel is how an app learns that the launcher
      // is gone (closed terminal, SIGKILL): it closes with the launcher, and the app then stops itself.
      const child = spawn(process.execPath, [...app.nodeFlags, '--conditions=development', '--import', 'tsx', join(root, app.main)], {
        cwd: root,
        env: { ...env, REDIS_URL: appsRedisUrl },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        detached: true,
      });
      children.push({ name: app.name, child });
      child.once('exit', (code) => {
        if (!stopping) resolveExit({ app: app.name, code });
      });
      const port = app.portOf(config.ports);
      if (port !== undefined)
        await waitUntilReady(`http://127.0.0.1:${port}/readyz`, { child, timeoutMs: 60_000 }).catch((error: Error) => {
          throw new Error(`${app.name} did not start: ${error.message}`);
        });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { redisUrl, appsRedisUrl: appsRedisUrl ?? redisUrl, stop, exited };
}
