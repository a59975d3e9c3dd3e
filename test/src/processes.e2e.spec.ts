import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freePort, startRedisServer } from '@herald/embedded-redis';

/*
 * The apps as processes, started for real and signalled (issue 17.9-17.11).
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

/** The lines a process wrote, without blank ones. */
const lines = (output: string) => output.split('\n').filter((line) => line.trim() !== '');

describe('an app on its own', function () {
  this.timeout(60_000);

  it('says in one line which variable names a port in use (regression: a raw EADDRINUSE stack trace)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const ingest = run(['apps/ingest/src/main.ts'], { REDIS_URL: 'redis://127.0.0.1:1', INGEST_PORT: String(port), HERALD_LOG_LEVEL: 'silent' }, 'never');
      expect(await ingest.exited).to.equal(1);
      expect(lines(ingest.output())).to.deep.equal([
        `INGEST_PORT=${port}: port ${port} is already in use (another Herald, or another program); stop it or set INGEST_PORT to a free port.`,
      ]);
    } finally {
      taken.close();
    }
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
