import { spawn } from 'node:child_process';
import { getPriority } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Notification } from '@herald/contracts';
import { useTestRedis, waitFor } from '@herald/testing';
import { WorkerFixture } from './worker.fixture.js';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('worker crash safety', function () {
  this.timeout(90_000);
  let fixture: WorkerFixture;
  const children: ChildProcess[] = [];
  // Registered before useTestRedis, so the workers die before the test's keys are deleted.
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await fixture.close();
  });
  const redis = useTestRedis();

  const env = () => ({
    ...process.env,
    REDIS_URL: redis.url,
    HERALD_KEY_PREFIX: redis.prefix,
    HERALD_LOG_LEVEL: 'silent',
    WORKER_PORT: '0',
    HERALD_PARTITIONS_HIGH: '2',
    HERALD_WORKER_PRIORITIES: 'high',
    // Small entries, read one at a time: the crash must find most of the backlog still queued.
    HERALD_WORKER_BATCH_HIGH: '1',
    HERALD_WORKER_LEASE_MS: '1000',
    HERALD_WORKER_RECLAIM_IDLE_MS: '1000',
  });

  function startWorkerProcess(extraEnv: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', main], {
      env: { ...env(), ...extraEnv },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  }

  it('runs at the OS scheduling priority HERALD_WORKER_NICE asks for', async () => {
    fixture = new WorkerFixture(redis);
    const child = startWorkerProcess({ HERALD_WORKER_NICE: '7' });
    await waitFor("the worker's nice value", () => expect(getPriority(child.pid)).to.equal(7), { timeoutMs: 20_000 });
  });

  it('loses and duplicates nothing when a worker is SIGKILLed with a backlog in flight', async () => {
    fixture = new WorkerFixture(redis, { HERALD_PARTITIONS_HIGH: '2' });
    await fixture.startSockets();
    const accounts = Array.from({ length: 20 }, (_, i) => `acct-${i}`);
    const received = new Map<string, Notification[]>();
    for (const account of accounts) received.set(account, await fixture.device(account, `web-${account}`, 'web', { online: true }));

    const expected = new Map(accounts.map((account) => [account, [] as string[]]));
    const batch = [];
    for (let i = 0; i < 3000; i++) {
      const accountId = accounts[i % accounts.length]!;
      batch.push({ id: `evt-${i}`, accountId });
      expected.get(accountId)!.push(`evt-${i}`);
    }
    for (let i = 0; i < batch.length; i += 10) await fixture.accept(batch.slice(i, i + 10));

    const first = startWorkerProcess();
    const historyCount = async () => {
      let total = 0;
      for (const account of accounts) total += (await fixture.history.range(account, undefined, 10_000)).length;
      return total;
    };
    await waitFor('300 events routed', async () => expect(await historyCount()).to.be.above(300), { timeoutMs: 30_000 });
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const routedBeforeCrash = await historyCount();
    expect(routedBeforeCrash).to.be.below(3000, 'the crash should land with a backlog in flight');

    startWorkerProcess();
    await waitFor(
      'the backlogs to drain',
      async () => {
        const backlogs = await Promise.all([0, 1].map((partition) => redis.client.get(fixture.keys.backlog('high', partition))));
        expect(backlogs).to.deep.equal(['0', '0']);
      },
      { timeoutMs: 60_000 },
    );

    for (const account of accounts) {
      const ids = (await fixture.history.range(account, undefined, 10_000)).map((r) => r.entry.id);
      expect(ids, `history of ${account}`).to.deep.equal(expected.get(account));
    }
    await waitFor(
      'every push',
      () => {
        for (const account of accounts) {
          const got = new Set(received.get(account)!.map((n) => n.id));
          expect(got.size, `pushed to ${account}`).to.equal(expected.get(account)!.length);
        }
      },
      { timeoutMs: 40_000 },
    );
  });
});
