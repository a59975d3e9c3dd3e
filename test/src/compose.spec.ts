import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';
import { z } from 'zod';

const root = fileURLToPath(new URL('../../', import.meta.url));

const ComposeSchema = z.object({
  services: z.record(
    z.string(),
    z.object({
      command: z.array(z.string()).optional(),
      environment: z.record(z.string(), z.string()).optional(),
      healthcheck: z.object({ test: z.array(z.string()) }),
    }),
  ),
});

/** The compose CLI on this machine (`docker compose` or `docker-compose`), if any works. */
function composeCli(): string[] | undefined {
  for (const cli of [['docker', 'compose'], ['docker-compose']]) {
    if (spawnSync(cli[0]!, [...cli.slice(1), 'version'], { stdio: 'ignore' }).status === 0) return cli;
  }
  return undefined;
}

describe('docker-compose.yml', () => {
  let compose: z.infer<typeof ComposeSchema>;
  before(() => {
    compose = ComposeSchema.parse(parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }));
  });

  it('runs Redis with AOF and noeviction, and every service with a health check', () => {
    const redis = compose.services['redis'];
    expect(redis?.command?.join(' ')).to.contain('--appendonly yes').and.to.contain('--maxmemory-policy noeviction');
    for (const [name, service] of Object.entries(compose.services)) expect(service.healthcheck.test, name).to.have.length.above(0);
  });

  it('points each app at the compose Redis and in production mode', () => {
    const apps = Object.entries(compose.services).filter(([name]) => name !== 'redis');
    expect(apps.map(([name]) => name)).to.include('ingest');
    for (const [name, service] of apps) {
      expect(service.environment?.['REDIS_URL'], name).to.equal('redis://redis:6379');
      expect(service.environment?.['NODE_ENV'], name).to.equal('production');
    }
  });

  it('is accepted by `compose config` where a compose CLI is installed', function () {
    const cli = composeCli();
    if (cli === undefined) {
      console.log('      (no docker compose CLI here; apt-get install -y docker-compose to run this check)');
      this.skip();
    }
    const result = spawnSync(cli[0]!, [...cli.slice(1), 'config', '--quiet'], {
      cwd: root,
      env: { ...process.env, HERALD_SERVICE_KEYS: 'svc:0123456789', HERALD_DEVICE_SECRET: 'x'.repeat(32) },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).to.equal(0);
  });
});
