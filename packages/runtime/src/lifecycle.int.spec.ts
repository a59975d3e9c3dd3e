import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { expect } from 'chai';
import { StartError, listenOn } from './index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs a small app using stopOnSignals, sends it `signal` (SIGTERM) once it is up, and returns its exit code and output. */
function runApp(
  stopBody: string,
  timeoutMs: number,
  { signal = 'SIGTERM', setup = '', options = '' }: { signal?: NodeJS.Signals; setup?: string; options?: string } = {},
): Promise<{ code: number | null; output: string }> {
  const source = `
    import { createLogger, stopOnSignals } from '@herald/runtime';
    const logger = createLogger({ app: 'probe', level: 'info' });
    ${setup}
    stopOnSignals({ app: 'probe', logger, timeoutMs: ${timeoutMs}, stop: async () => { ${stopBody} }${options} });
    setInterval(() => {}, 1000);
    console.log('up');
  `;
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('up') && !child.killed) child.kill(signal);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('stopOnSignals', function () {
  this.timeout(20_000);

  it('stops the app on SIGTERM and exits 0', async () => {
    const { code, output } = await runApp('await new Promise((r) => setTimeout(r, 50));', 5_000);
    expect(code).to.equal(0);
    expect(output).to.contain('probe stopping').and.to.contain('probe stopped');
  });

  it('exits 1 when stopping hangs past the timeout', async () => {
    const { code, output } = await runApp('await new Promise(() => {});', 300);
    expect(code).to.equal(1);
    expect(output).to.contain('did not stop within 300 ms');
  });

  it('exits 1 when stopping fails', async () => {
    const { code, output } = await runApp("throw new Error('redis gone');", 5_000);
    expect(code).to.equal(1);
    expect(output).to.contain('failed to stop cleanly');
  });

  it('stops the app on SIGHUP like SIGTERM (regression: closing the terminal left the apps running)', async () => {
    const { code, output } = await runApp('await new Promise((r) => setTimeout(r, 50));', 5_000, { signal: 'SIGHUP' });
    expect(code).to.equal(0);
    expect(output).to.contain('SIGHUP').and.to.contain('probe stopped');
  });

  it('exits at once when Redis is not reachable as stopping begins (regression: the worker took ~40 s with Redis gone)', async () => {
    const started = Date.now();
    const { code, output } = await runApp('await new Promise(() => {});', 10_000, {
      setup: "const redis = { status: 'reconnecting', once() {}, off() {} };",
      options: ', redis',
    });
    expect(code).to.equal(1);
    expect(Date.now() - started).to.be.below(5_000);
    expect(output).to.contain('Redis is not reachable');
  });

  it('exits at once when the Redis connection drops while stopping', async () => {
    const { code, output } = await runApp('await new Promise(() => {});', 10_000, {
      setup:
        "import { EventEmitter } from 'node:events'; const redis = Object.assign(new EventEmitter(), { status: 'ready' }); process.once('SIGTERM', () => setTimeout(() => redis.emit('reconnecting'), 100));",
      options: ', redis',
    });
    expect(code).to.equal(1);
    expect(output).to.contain('Redis is not reachable');
  });

  it('does not take its own quit for a lost Redis: a connection that stays up lets stopping finish', async () => {
    const { code, output } = await runApp("redis.emit('close'); redis.emit('end');", 5_000, {
      setup: "import { EventEmitter } from 'node:events'; const redis = Object.assign(new EventEmitter(), { status: 'ready' });",
      options: ', redis',
    });
    expect(code).to.equal(0);
    expect(output).to.contain('probe stopped');
  });

  it('stops when the process that started it is gone, even killed with SIGKILL (regression: kill -9 of the launcher orphaned every app)', async () => {
    // A parent that starts the probe with an IPC channel, as the launcher does, prints its pid and waits.
    const parentSource = `
      import { spawn } from 'node:child_process';
      const probe = \`
        import { createLogger, stopOnSignals } from '@herald/runtime';
        const logger = createLogger({ app: 'probe', level: 'info' });
        stopOnSignals({ app: 'probe', logger, stop: async () => {} });
        setInterval(() => {}, 1000);
        console.log('probe up');
      \`;
      const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '-e', probe], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
      console.log('probe pid ' + child.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', parentSource], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const probePid = await new Promise<number>((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const pid = /probe pid (\d+)/.exec(output)?.[1];
        if (pid !== undefined && output.includes('probe up')) resolve(Number(pid));
      };
      parent.stdout.on('data', onData);
      parent.stderr.on('data', onData);
    });
    parent.kill('SIGKILL');
    const alive = () => {
      try {
        process.kill(probePid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 10_000;
    while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (alive()) process.kill(probePid, 'SIGKILL');
    expect(alive(), 'the probe outlived its parent').to.equal(false);
  });
});

describe('listenOn', () => {
  it('names the variable and the port when the port is taken (regression: a port clash was a raw EADDRINUSE stack trace)', async () => {
    const taken = createServer();
    await listenOn(taken, 0, 'INGEST_PORT');
    const port = (taken.address() as { port: number }).port;
    try {
      const second = createServer();
      const error: unknown = await listenOn(second, port, 'INGEST_PORT').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(StartError);
      expect((error as Error).message).to.equal(
        `INGEST_PORT=${port}: port ${port} is already in use (another Herald, or another program); stop it or set INGEST_PORT to a free port.`,
      );
      expect(second.listening).to.equal(false);
    } finally {
      taken.close();
    }
  });
});
