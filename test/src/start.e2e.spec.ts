import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { freePort } from '@herald/embedded-redis';
import { closeRedis, createKeys, createRedis } from '@herald/redis';
import { deleteKeysWithPrefix, testRedisServer, testTopology, uniquePrefix, waitFor } from '@herald/testing';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `npm start`'s entry point and resolves with the Redis URL from its banner. */
function start(env: NodeJS.ProcessEnv): { child: ChildProcess; ready: Promise<string>; output: () => string } {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'packages/launcher/src/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /redis\s+(redis(?:\+cluster)?:\/\/\S+)/.exec(output);
      if (output.includes('Herald is running.') && match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`launcher exited with ${code}:\n${output}`)));
  });
  return { child, ready, output: () => output };
}

function stopped(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

describe('npm start', function () {
  this.timeout(120_000);
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'herald-start-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs an embedded Redis and the apps end to end, stops cleanly on Ctrl-C, and keeps its data across restarts', async function () {
    // The embedded Redis is one server whatever the run's topology: once is enough.
    if (testTopology() === 'cluster') this.skip();
    const port = await freePort();
    const demoPort = await freePort();
    const env = {
      HERALD_DATA_DIR: dataDir,
      INGEST_PORT: String(port),
      WORKER_PORT: String(await freePort()),
      GATEWAY_PORT: String(await freePort()),
      DASHBOARD_PORT: String(await freePort()),
      DEMO_PORT: String(demoPort),
      HERALD_LOG_LEVEL: 'warn',
    };
    const first = start(env);
    const redisUrl = await first.ready;
    expect(first.output()).to.contain('dev-service-key');
    // Outside production, with the development service key, the demo app runs too.
    expect(first.output()).to.match(new RegExp(`demo\\s+http://localhost:${demoPort}\\s`));
    const demoPage = await fetch(`http://127.0.0.1:${demoPort}/`);
    expect(demoPage.status).to.equal(200);
    expect(await demoPage.text()).to.contain(`data-gateway-url="http://localhost:${env.GATEWAY_PORT}"`);
    const headers = { authorization: 'Bearer dev-service-key', 'content-type': 'application/json' };
    const device = await fetch(`http://127.0.0.1:${port}/v1/devices`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ accountId: 'acct-1', platform: 'web', deviceId: 'web-1' }),
    });
    expect(device.status).to.equal(201);
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-service-key', 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'kept-across-restarts', type: 'plan.changed', accountId: 'acct-1' }),
    });
    expect(res.status).to.equal(202);
    const redis = new Redis(redisUrl);
    const history = 'herald:{a:acct-1}:history';
    await waitFor('the worker to route the event to the history', async () => expect(await redis.xlen(history)).to.equal(1), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    expect(await redis.config('GET', 'appendonly')).to.deep.equal(['appendonly', 'yes']);
    expect(await redis.config('GET', 'auto-aof-rewrite-percentage')).to.deep.equal(['auto-aof-rewrite-percentage', '400']);
    expect(await redis.config('GET', 'maxmemory-policy')).to.deep.equal(['maxmemory-policy', 'noeviction']);
    const worker = ((await redis.client('LIST')) as string).split('\n').find((line) => line.includes(' name=herald-worker '));
    expect(worker, 'the apps reach the embedded Redis over its Unix socket').to.match(/ addr=\/\S+redis\.sock:0 /);
    expect(first.output()).to.contain('the apps use its Unix socket');
    redis.disconnect();
    expect(await stopped(first.child)).to.equal(0);
    expect(first.output()).to.contain('Herald stopped.');

    const second = start(env);
    const again = new Redis(await second.ready);
    const entries = await again.xrange('herald:{a:acct-1}:history', '-', '+');
    expect(entries).to.have.length(1);
    expect(entries[0]![1].join(' ')).to.contain('kept-across-restarts');
    again.disconnect();
    expect(await stopped(second.child)).to.equal(0);
  });

  it('runs the apps on a Redis Cluster given as REDIS_URL, starting no Redis of its own', async function () {
    if (testTopology() !== 'cluster') this.skip();
    const cluster = await testRedisServer();
    const prefix = uniquePrefix();
    const port = await freePort();
    const env = {
      HERALD_DATA_DIR: dataDir,
      REDIS_URL: cluster.url,
      HERALD_KEY_PREFIX: prefix,
      INGEST_PORT: String(port),
      WORKER_PORT: String(await freePort()),
      GATEWAY_PORT: String(await freePort()),
      DASHBOARD_PORT: String(await freePort()),
      DEMO_PORT: String(await freePort()),
      HERALD_LOG_LEVEL: 'info',
    };
    const run = start(env);
    const client = createRedis({ url: cluster.url });
    try {
      expect(await run.ready).to.equal(cluster.url);
      expect(run.output()).not.to.contain('embedded');
      // Every app checked the Cluster before taking work.
      expect(run.output().match(/redis: Redis Cluster, cluster_state ok, 3 masters/g)).to.have.length(4);
      const headers = { authorization: 'Bearer dev-service-key', 'content-type': 'application/json' };
      // Accounts whose keys are on different masters.
      for (const accountId of ['alice', 'acct-42', 'b']) {
        const device = await fetch(`http://127.0.0.1:${port}/v1/devices`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ accountId, platform: 'web', deviceId: 'web-1' }),
        });
        expect(device.status).to.equal(201);
        const res = await fetch(`http://127.0.0.1:${port}/v1/events`, { method: 'POST', headers, body: JSON.stringify({ type: 'plan.changed', accountId }) });
        expect(res.status).to.equal(202);
      }
      const keys = createKeys(prefix);
      const routed = async () => (await Promise.all(['alice', 'acct-42', 'b'].map((a) => client.xlen(keys.history(a))))).every((n) => n === 1);
      await waitFor('the worker to route each event to its account history', routed, { timeoutMs: 10_000, intervalMs: 100 });
      expect(await stopped(run.child)).to.equal(0);
      expect(run.output()).to.contain('Herald stopped.');
    } finally {
      // Ctrl-C, not SIGKILL: the launcher stops the apps it started (a killed launcher would leave them running).
      if (run.child.exitCode === null) await stopped(run.child);
      await deleteKeysWithPrefix(client, prefix);
      await closeRedis(client);
    }
  });
});
