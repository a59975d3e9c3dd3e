import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freePort } from '@herald/embedded-redis';
import { masters, nodeAddress } from '@herald/redis';
import { useTestRedis } from '@herald/testing';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs an app's main until it exits or answers /readyz; its exit code (undefined: it came up) and output. */
async function runApp(app: string, env: Record<string, string>, port: number): Promise<{ code: number | null | undefined; output: string }> {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', `apps/${app}/src/main.ts`], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return { code: await exited, output };
    if (
      await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (res) => res.ok,
        () => false,
      )
    ) {
      child.kill('SIGTERM');
      await exited;
      return { code: undefined, output };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${app} neither started nor exited:\n${output}`);
}

describe('the start-up check of Redis', function () {
  this.timeout(60_000);
  const redis = useTestRedis();

  it('reports one Redis or a Cluster with its cluster_state, and starts', async () => {
    const port = await freePort();
    const { code, output } = await runApp('ingest', { REDIS_URL: redis.url, HERALD_KEY_PREFIX: redis.prefix, INGEST_PORT: String(port) }, port);
    expect(code, output).to.equal(undefined);
    expect(output).to.contain(redis.topology === 'cluster' ? 'redis: Redis Cluster, cluster_state ok, 3 masters' : 'redis: one Redis');
  });

  it('refuses to run, naming the master, when a master is not noeviction', async () => {
    const master = masters(redis.client).at(-1)!;
    await master.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const port = await freePort();
      const { code, output } = await runApp('worker', { REDIS_URL: redis.url, HERALD_KEY_PREFIX: redis.prefix, WORKER_PORT: String(port) }, port);
      expect(code).to.equal(1);
      expect(output).to.contain(`${nodeAddress(master)} runs with maxmemory-policy allkeys-lru; Herald needs noeviction`);
      expect(output, 'a plain message, not a stack trace').not.to.match(/\n\s+at /);
    } finally {
      await master.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });
});
