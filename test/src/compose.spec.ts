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
      image: z.string().optional(),
      volumes: z.array(z.string()).optional(),
      ports: z.array(z.string()).optional(),
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
    expect(redis?.command?.join(' '))
      .to.contain('--appendonly yes')
      .and.to.contain('--maxmemory-policy noeviction')
      .and.to.contain('--auto-aof-rewrite-percentage 400');
    for (const [name, service] of Object.entries(compose.services)) expect(service.healthcheck.test, name).to.have.length.above(0);
  });

  it('points each app at the compose Redis and in production mode', () => {
    const apps = Object.entries(compose.services).filter(([name]) => name !== 'redis' && name !== 'gateway-proxy');
    expect(apps.map(([name]) => name)).to.include('ingest');
    for (const [name, service] of apps) {
      expect(service.environment?.['REDIS_URL'], name).to.equal('redis://redis:6379');
      expect(service.environment?.['NODE_ENV'], name).to.equal('production');
    }
  });

  it('runs a worker per priority, each routing only its own', () => {
    for (const priority of ['high', 'medium', 'low']) {
      expect(compose.services[`worker-${priority}`]?.environment?.['HERALD_WORKER_PRIORITIES'], priority).to.equal(priority);
    }
  });

  it('puts two gateway nodes with their own ids behind a WebSocket-capable, sticky proxy', () => {
    const ids = ['gateway-1', 'gateway-2'].map((name) => compose.services[name]?.environment?.['HERALD_GATEWAY_NODE_ID']);
    expect(ids).to.deep.equal(['gateway-1', 'gateway-2']);
    for (const name of ['gateway-1', 'gateway-2']) expect(compose.services[name]?.ports, name).to.equal(undefined);
    const proxy = compose.services['gateway-proxy'];
    expect(proxy?.ports).to.deep.equal(['3200:3200']);
    const mount = proxy?.volumes?.find((volume) => volume.endsWith(':/etc/nginx/conf.d/default.conf:ro'));
    expect(mount).to.be.a('string');
    const conf = readFileSync(`${root}${mount!.split(':')[0]!.replace(/^\.\//, '')}`, 'utf8');
    expect(conf).to.contain('server gateway-1:3200').and.to.contain('server gateway-2:3200');
    expect(conf).to.match(/^\s*ip_hash;/m);
    expect(conf).to.match(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).to.match(/proxy_set_header Connection \$connection_upgrade;/);
  });

  it('runs the dashboard with its login required', () => {
    const dashboard = compose.services['dashboard'];
    expect(dashboard?.ports).to.deep.equal(['3300:3300']);
    expect(dashboard?.environment?.['HERALD_ADMIN_USER']).to.match(/^\$\{HERALD_ADMIN_USER:\?/);
    expect(dashboard?.environment?.['HERALD_ADMIN_PASSWORD']).to.match(/^\$\{HERALD_ADMIN_PASSWORD:\?/);
  });

  it('has a Cluster variant: 3 masters with a replica each, joined once, and every app on it', () => {
    const cluster = ComposeSchema.parse(parse(readFileSync(`${root}docker-compose.cluster.yml`, 'utf8'), { merge: true }));
    const nodes = Object.keys(cluster.services).filter((name) => /^redis-\d+$/.test(name));
    expect(nodes).to.have.length(6);
    const conf = readFileSync(`${root}ops/redis/cluster-node.conf`, 'utf8');
    expect(conf)
      .to.match(/^cluster-enabled yes$/m)
      .and.to.match(/^maxmemory-policy noeviction$/m)
      .and.to.match(/^appendonly yes$/m);
    for (const node of nodes) {
      expect(cluster.services[node]?.command?.join(' '), node).to.equal(
        `redis-server /usr/local/etc/redis/cluster-node.conf --cluster-announce-hostname ${node}`,
      );
      expect(cluster.services[node]?.volumes, node).to.include('./ops/redis/cluster-node.conf:/usr/local/etc/redis/cluster-node.conf:ro');
    }
    expect(cluster.services['redis-cluster']?.command?.join(' ')).to.contain('--cluster create').and.to.contain('--cluster-replicas 1');
    const apps = Object.entries(cluster.services).filter(([name]) => !name.startsWith('redis') && name !== 'gateway-proxy');
    expect(apps.map(([name]) => name).sort()).to.deep.equal(['dashboard', 'gateway-1', 'gateway-2', 'ingest', 'worker-high', 'worker-low', 'worker-medium']);
    for (const [name, service] of apps) {
      expect(service.environment?.['REDIS_URL'], name).to.equal('redis+cluster://redis-1:6379');
      expect(service.environment?.['REDIS_CLUSTER_NODES'], name).to.equal('redis-2:6379,redis-3:6379,redis-4:6379,redis-5:6379,redis-6:6379');
      expect(service.environment?.['HERALD_REDIS_WAIT_REPLICAS'], name).to.equal('1');
    }
  });

  it('is accepted by `compose config`, with its Cluster variant, where a compose CLI is installed', function () {
    const cli = composeCli();
    if (cli === undefined) {
      console.log('      (no docker compose CLI here; apt-get install -y docker-compose to run this check)');
      this.skip();
    }
    for (const file of ['docker-compose.yml', 'docker-compose.cluster.yml']) {
      const result = spawnSync(cli[0]!, [...cli.slice(1), '-f', file, 'config', '--quiet'], {
        cwd: root,
        env: {
          ...process.env,
          HERALD_SERVICE_KEYS: 'svc:0123456789',
          HERALD_DEVICE_SECRET: 'x'.repeat(32),
          HERALD_ADMIN_USER: 'ops',
          HERALD_ADMIN_PASSWORD: 'secret',
        },
        encoding: 'utf8',
      });
      expect(result.status, `${file}: ${result.stderr}`).to.equal(0);
    }
  });
});
