/**
 * `npm test`: the whole suite against one Redis, then the integration and end-to-end specs
 * (everything that touches Redis) again against a local 3-master Redis Cluster
 * (`HERALD_TEST_REDIS=cluster`), and one summary of both. Unit specs, the browser test and the
 * compose file check do not depend on the topology and run once.
 *
 *   npm test                          both topologies
 *   npm test -- --topology cluster    one of them (standalone | cluster)
 *
 * The last line is `[test] both topologies: N passing, N failing, N pending` (or the one
 * topology's), which .ci/run reads. One spec on one topology: `npx mocha <file>` with or without
 * `HERALD_TEST_REDIS=cluster`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('../../../', import.meta.url));

type Topology = 'standalone' | 'cluster';

/** Every spec, as before topologies existed. */
const ALL_SPECS = ['packages/*/src/**/*.spec.ts', 'apps/*/src/**/*.spec.ts', 'test/src/**/*.spec.ts'];

/** The specs that touch Redis: run on both. */
const REDIS_SPECS = ['packages/*/src/**/*.int.spec.ts', 'apps/*/src/**/*.int.spec.ts', 'test/src/**/*.e2e.spec.ts'];

/**
 * Integration specs that never touch the test Redis, so a second run would only repeat them:
 * the signal handling of a bare process, and the fault tests of a standalone Redis (killed and
 * restarted); a Cluster's own faults (failover, a master killed) are in cluster-failover.e2e.
 */
const STANDALONE_ONLY = ['packages/lifecycle/src/lifecycle.int.spec.ts', 'test/src/faults.e2e.spec.ts'];

/** Specs that only mean something on a Cluster (they skip themselves on one Redis). */
const CLUSTER_ONLY = ['test/src/cluster-failover.e2e.spec.ts'];

interface Summary {
  topology: Topology;
  passing: number;
  failing: number;
  pending: number;
  code: number;
  seconds: number;
}

function runMocha(topology: Topology): Promise<Summary> {
  const specs = topology === 'standalone' ? ALL_SPECS : REDIS_SPECS;
  const ignored = topology === 'standalone' ? CLUSTER_ONLY : STANDALONE_ONLY;
  const args = ['node_modules/mocha/bin/mocha.js', ...specs, ...ignored.flatMap((spec) => ['--ignore', spec])];
  const started = Date.now();
  console.log(
    `\n[test] ${topology}: ${topology === 'cluster' ? 'integration and end-to-end specs against a local 3-master Redis Cluster' : 'every spec against one redis-server'}`,
  );
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, HERALD_TEST_REDIS: topology },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let tail = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    tail = (tail + chunk.toString()).slice(-20_000);
  });
  return new Promise((resolve) => {
    child.once('close', (code) => {
      const count = (word: string) => Number(new RegExp(`^ +(\\d+) ${word}`, 'm').exec(tail)?.[1] ?? 0);
      resolve({
        topology,
        passing: count('passing'),
        failing: count('failing'),
        pending: count('pending'),
        code: code ?? 1,
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}

const { values } = parseArgs({ options: { topology: { type: 'string', default: 'both' } } });
const topologies: Topology[] = values.topology === 'both' ? ['standalone', 'cluster'] : [values.topology as Topology];
if (!topologies.every((t) => t === 'standalone' || t === 'cluster')) {
  console.error('--topology must be standalone, cluster or both');
  process.exit(2);
}

const summaries: Summary[] = [];
for (const topology of topologies) summaries.push(await runMocha(topology));

const line = (label: string, s: Pick<Summary, 'passing' | 'failing' | 'pending'>) =>
  `[test] ${label}: ${s.passing} passing, ${s.failing} failing, ${s.pending} pending`;
console.log('');
for (const s of summaries)
  console.log(`${line(s.topology, s)} (${Math.round(s.seconds)} s${s.code !== 0 && s.failing === 0 ? `, mocha exited ${s.code}` : ''})`);
const total = {
  passing: summaries.reduce((sum, s) => sum + s.passing, 0),
  // A run that died without a summary (or with a failing hook) counts as a failure.
  failing: summaries.reduce((sum, s) => sum + (s.code !== 0 && s.failing === 0 ? 1 : s.failing), 0),
  pending: summaries.reduce((sum, s) => sum + s.pending, 0),
};
console.log(line(topologies.length > 1 ? 'both topologies' : topologies[0]!, total));
process.exit(summaries.every((s) => s.code === 0) ? 0 : 1);
