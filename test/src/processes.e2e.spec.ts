import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freePort, startRedisServer } from '@herald/embedded-redis';
import { testRedisServer, waitFor } from '@herald/testing';

/*
 * The launcher (`npm start`) and the apps as processes, started for real and signalled
 * (issue 17.8-17.11).
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Started {
  child: ChildProcess;
  /** Resolves once the output says `readyWhen`; rejects if the process exits first. */
  ready: Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  output: () => string;
}

function run(args: string[], env: NodeJS.ProcessEnv, readyWhen: string): Started {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(readyWhen)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`exited with ${code} before "${readyWhen}":\n${output}`)));
  });
  ready.catch(() => undefined);
  return { child, ready, exited, output: () => output };
}

const startHerald = (env: NodeJS.ProcessEnv) => run(['packages/launcher/src/main.ts'], env, 'Herald is running.');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The apps and the Redis a launcher started (not the helpers tsx runs, such as esbuild). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
      .filter((match) => match !== null && /apps\/\w+\/src\/main\.ts|redis-server/.test(match[2]!))
      .map((match) => Number(match![1]));
  } catch {
    return [];
  }
}

async function ports(): Promise<Record<string, string>> {
  return {
    INGEST_PORT: String(await freePort()),
    WORKER_PORT: String(await freePort()),
    GATEWAY_PORT: String(await freePort()),
    DASHBOARD_PORT: String(await freePort()),
    DEMO_PORT: String(await freePort()),
  };
}

/** The lines a process wrote, without blank ones. */
const lines = (output: string) => output.split('\n').filter((line) => line.trim() !== '');

describe('the launcher', function () {
  this.timeout(180_000);
  let dataDir: string;
  const cleanups: (() => void)[] = [];
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'herald-launcher-'));
  });
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    // A Redis a test left behind on purpose (the launcher killed with SIGKILL).
    const pidFile = join(dataDir, 'redis', 'redis.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Kills, at the end of the test, whatever of these processes is still there. */
  const reap = (pids: number[]) => cleanups.push(() => pids.filter(alive).forEach((pid) => process.kill(pid, 'SIGKILL')));

  it("refuses a second npm start in one line naming the running one, leaves it untouched, and SIGHUP stops it all (regression: the second start killed the first one's Redis; closing the terminal left everything running)", async () => {
    const env: Record<string, string> = { HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: 'warn', ...(await ports()) };
    const first = startHerald(env);
    reap([first.child.pid!]);
    await first.ready;
    const children = childrenOf(first.child.pid!);
    reap(children);
    expect(children, 'Redis and five apps (the demo too: development, with the development service key)').to.have.length(6);

    const second = startHerald(env);
    expect(await second.exited).to.equal(1);
    const said = lines(second.output());
    expect(said, second.output()).to.have.length(1);
    expect(said[0]).to.equal(
      `Herald is already running (launcher pid ${first.child.pid}): ingest http://localhost:${env['INGEST_PORT']}, gateway http://localhost:${env['GATEWAY_PORT']}, dashboard http://localhost:${env['DASHBOARD_PORT']}/admin, worker http://localhost:${env['WORKER_PORT']}; stop it first (Ctrl-C in its terminal, or kill ${first.child.pid}).`,
    );
    expect(children.every(alive), 'the first instance keeps every process').to.equal(true);
    expect((await fetch(`http://127.0.0.1:${env['INGEST_PORT']}/readyz`)).status, 'and its Redis').to.equal(200);

    // Closing the terminal sends SIGHUP to its foreground process group: npm and the launcher.
    first.child.kill('SIGHUP');
    expect(await first.exited).to.equal(0);
    expect(first.output()).to.contain('Stopping Herald (SIGHUP)').and.contain('Herald stopped.');
    expect(children.filter(alive), 'processes left running').to.deep.equal([]);
    expect(existsSync(join(dataDir, 'launcher.lock')), 'the lock is released').to.equal(false);
  });

  it('stops every app when the launcher is killed with SIGKILL, and starts again over what it left (regression: kill -9 of the launcher orphaned every app)', async () => {
    const env = { HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: 'warn', ...(await ports()) };
    const first = startHerald(env);
    reap([first.child.pid!]);
    await first.ready;
    const redisPid = Number(readFileSync(join(dataDir, 'redis', 'redis.pid'), 'utf8'));
    const apps = childrenOf(first.child.pid!).filter((pid) => pid !== redisPid);
    reap(apps);
    expect(apps).to.have.length(5);

    first.child.kill('SIGKILL');
    await waitFor('every app stopped', () => apps.every((pid) => !alive(pid)), { timeoutMs: 20_000, intervalMs: 100 });

    // The lock names a launcher that is gone, and its Redis is still there: a new start takes both over.
    const again = startHerald(env);
    reap([again.child.pid!]);
    await again.ready;
    reap(childrenOf(again.child.pid!));
    expect(alive(redisPid), 'the Redis left behind was stopped').to.equal(false);
    again.child.kill('SIGINT');
    expect(await again.exited).to.equal(0);
  });

  it('refuses a port in use in one line naming its variable, before starting anything (regression: a raw EADDRINUSE stack trace)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    cleanups.push(() => taken.close());
    const port = (taken.address() as { port: number }).port;
    const env = { HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: 'warn', ...(await ports()), GATEWAY_PORT: String(port) };
    const started = startHerald(env);
    reap([started.child.pid!]);
    expect(await started.exited).to.equal(1);
    expect(lines(started.output())).to.deep.equal([
      `GATEWAY_PORT=${port}: port ${port} is already in use (another Herald, or another program); stop it or set GATEWAY_PORT to a free port.`,
    ]);
    expect(existsSync(join(dataDir, 'redis', 'redis.pid')), 'no Redis was started').to.equal(false);
  });
});

describe('an app on its own', function () {
  this.timeout(60_000);

  it('says in one line which variable names a port in use (regression: a raw EADDRINUSE stack trace)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      // A reachable Redis: the start-up check passes, and the port is what stops the app.
      const redisUrl = (await testRedisServer()).url;
      const ingest = run(['apps/ingest/src/main.ts'], { REDIS_URL: redisUrl, INGEST_PORT: String(port), HERALD_LOG_LEVEL: 'silent' }, 'never');
      expect(await ingest.exited).to.equal(1);
      expect(lines(ingest.output())).to.deep.equal([
        `INGEST_PORT=${port}: port ${port} is already in use (another Herald, or another program); stop it or set INGEST_PORT to a free port.`,
      ]);
    } finally {
      taken.close();
    }
  });

  it('demo: refuses production in one line, before listening', async () => {
    const demo = run(
      ['apps/demo/src/main.ts'],
      { NODE_ENV: 'production', HERALD_SERVICE_KEYS: 'demo:0123456789', DEMO_PORT: String(await freePort()), HERALD_LOG_LEVEL: 'info' },
      'never',
    );
    expect(await demo.exited).to.equal(1);
    expect(lines(demo.output())).to.deep.equal(['The demo is a development aid and does not run in production (NODE_ENV=production).']);
  });

  for (const [app, variable, readyWhen] of [
    ['worker', 'WORKER_PORT', 'worker running'],
    ['gateway', 'GATEWAY_PORT', 'gateway listening'],
  ] as const) {
    it(`${app}: stops within seconds on SIGTERM when Redis is gone (regression: the worker needed ~40 s, waiting on reconnects)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'herald-gone-'));
      const redis = await startRedisServer({ dir, appendOnly: false });
      const started = run([`apps/${app}/src/main.ts`], { REDIS_URL: redis.url, [variable]: String(await freePort()), HERALD_LOG_LEVEL: 'info' }, readyWhen);
      try {
        await started.ready;
        await redis.stop();
        // Long enough for reconnect back-off to grow past a second.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const signalled = Date.now();
        started.child.kill('SIGTERM');
        const code = await started.exited;
        expect(Date.now() - signalled, started.output()).to.be.below(5_000);
        expect(code).to.equal(1);
        expect(started.output()).to.contain('Redis is not reachable');
      } finally {
        if (started.child.exitCode === null) started.child.kill('SIGKILL');
        await redis.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
