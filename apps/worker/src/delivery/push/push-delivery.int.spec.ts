import { Queue } from 'bullmq';
import { expect } from 'chai';
import { useTestRedis, waitFor } from '@herald/testing';
import { createWorker, createWorkerDeps } from '../../index.js';
import type { HeraldWorker, MobilePlatform, PushOutcome, PushProvider, TokenSignal } from '../../index.js';
import { WorkerFixture, workerConfig } from '../../worker.fixture.js';

/** A provider whose answer per device the test decides; records every request with its time. */
class ScriptedPush implements PushProvider {
  readonly name = 'scripted';
  readonly requests: { deviceId: string; pushToken: string; cursor: string; at: number }[] = [];
  constructor(private readonly answer: (signal: TokenSignal, attempt: number) => PushOutcome) {}

  async send(_platform: MobilePlatform, signals: readonly TokenSignal[]): Promise<PushOutcome[]> {
    return signals.map((signal) => {
      const attempt = this.requests.filter((r) => r.deviceId === signal.deviceId).length + 1;
      this.requests.push({ deviceId: signal.deviceId, pushToken: signal.pushToken, cursor: signal.cursor, at: Date.now() });
      return this.answer(signal, attempt);
    });
  }

  to(deviceId: string) {
    return this.requests.filter((r) => r.deviceId === deviceId);
  }
}

describe('push delivery', function () {
  this.timeout(15_000);
  let fixture: WorkerFixture;
  const workers: HeraldWorker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await fixture.close();
  });
  const redis = useTestRedis();

  async function startWorker(push: PushProvider, env: Record<string, string> = {}): Promise<void> {
    const worker = createWorker(createWorkerDeps(workerConfig(redis, env), redis.url, { blockMs: 100, push }));
    workers.push(worker);
    await worker.start();
  }

  it('signals only devices with a push token, and retries only the unreached ones, no sooner than their Retry-After', async () => {
    const push = new ScriptedPush((signal, attempt) =>
      signal.deviceId === 'busy' && attempt === 1 ? { status: 'retry', reason: 'APNs answered 503', retryAfterMs: 1200 } : { status: 'sent' },
    );
    fixture = new WorkerFixture(redis);
    await fixture.device('acct', 'ok', 'ios', { pushToken: 'tok-ok' });
    await fixture.device('acct', 'busy', 'ios', { pushToken: 'tok-busy' });
    await fixture.device('acct', 'tokenless', 'ios');
    await startWorker(push);
    await fixture.accept([{ id: 'e1', accountId: 'acct' }]);

    await waitFor('two tries to the busy device', () => expect(push.to('busy')).to.have.length(2), { timeoutMs: 8000 });
    expect(push.to('ok'), 'a device already signalled is not signalled again').to.have.length(1);
    expect(push.to('tokenless')).to.have.length(0);
    const [first, second] = push.to('busy');
    expect(second!.at - first!.at, 'waited for Retry-After (the exponential backoff alone is 0.5 s)').to.be.at.least(1100);
    const queue = new Queue(fixture.keys.deliveryQueue('ios', 'high'), { connection: fixture.connection(), prefix: fixture.keys.queuePrefix('ios', 'high') });
    await waitFor('the job to complete', async () => expect(await queue.getCompletedCount()).to.equal(1));
    await queue.close();
  });

  it('drops a token the provider reports dead at once, without retrying it, and sends that device nothing afterwards', async () => {
    const push = new ScriptedPush((signal) => (signal.pushToken === 'dead' ? { status: 'dead_token', reason: 'Unregistered' } : { status: 'sent' }));
    fixture = new WorkerFixture(redis);
    await fixture.device('acct', 'gone', 'android', { pushToken: 'dead' });
    await fixture.device('acct', 'fine', 'android', { pushToken: 'alive' });
    await startWorker(push);
    await fixture.accept([{ id: 'e1', accountId: 'acct' }]);
    await waitFor('the dead push token to be dropped', async () => expect((await fixture.devices.get('acct', 'gone'))?.pushToken).to.equal(undefined));
    expect((await fixture.devices.view('acct')).map((d) => [d.deviceId, d.hasPushToken])).to.have.deep.members([
      ['gone', false],
      ['fine', true],
    ]);

    await fixture.accept([{ id: 'e2', accountId: 'acct' }]);
    await waitFor('two signals to the fine device', () => expect(push.to('fine')).to.have.length(2));
    await fixture.deliveryIdle('android');
    expect(push.to('gone'), 'neither retried nor signalled again').to.have.length(1);

    // Registering again with a new token brings the signals back.
    await fixture.device('acct', 'gone', 'android', { pushToken: 'new-token' });
    await fixture.accept([{ id: 'e3', accountId: 'acct' }]);
    await waitFor('a signal to the new token', () => expect(push.to('gone').map((r) => r.pushToken)).to.deep.equal(['dead', 'new-token']));
  });
});
