import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createKeys } from '@herald/redis';
import { useTestRedis, waitFor } from '@herald/testing';
import { createWorker, createWorkerDeps } from '../../index.js';
import type { HeraldWorker } from '../../index.js';
import { WorkerFixture, workerConfig } from '../../worker.fixture.js';
import type { PushSignal } from '../../jobs.js';
import { FakeApns } from './apns.fixture.js';
import { PushCoalescer } from './coalescer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function signal(cursor: string, deviceId = 'phone'): PushSignal {
  return { accountId: 'acct', deviceId, pushToken: `tok-${deviceId}`, cursor, eventIds: [`e-${cursor}`], priority: 'high', acceptedAt: Date.now() };
}

describe('push coalescing', function () {
  this.timeout(15_000);
  const redis = useTestRedis();
  const coalescer = (windowMs = 200) => new PushCoalescer({ redis: redis.client, keys: createKeys(redis.prefix), windowMs });

  it("sends a quiet device's first signal at once, holds the rest of the window, and sends the newest held one when it ends", async () => {
    const gate = coalescer();
    expect(await gate.admit(signal('100-0'))).to.deep.include({ verdict: 'send' });
    const newest = signal('102-0');
    const held = await gate.admit(newest);
    expect(held).to.have.property('verdict', 'held');
    expect(held).to.have.property('delayMs').within(1, 200);
    // A signal delivered late from another priority's queue: an older cursor never replaces a newer one.
    expect(await gate.admit(signal('101-5'))).to.have.property('verdict', 'held');
    expect(await gate.trailing('acct', 'phone'), 'the window is still open').to.have.property('verdict', 'wait');

    await sleep(220);
    expect(await gate.trailing('acct', 'phone')).to.deep.equal({ verdict: 'send', signal: newest });
    expect(await gate.trailing('acct', 'phone'), 'taken once').to.deep.equal({ verdict: 'none' });
    expect(await gate.admit(signal('103-0')), 'the trailing send opened a window of its own').to.have.property('verdict', 'held');
  });

  it("hands a window's first signal the held one when that is newer, so no trailing send is needed", async () => {
    const gate = coalescer(100);
    await gate.admit(signal('100-0'));
    await gate.admit(signal('105-0'));
    await sleep(120);
    // Its trailing job is late; a signal with an older cursor opens the next window.
    const admitted = await gate.admit(signal('104-0'));
    expect(admitted).to.deep.include({ verdict: 'send' });
    expect(admitted.verdict === 'send' && admitted.signal.cursor).to.equal('105-0');
    expect(await gate.trailing('acct', 'phone')).to.deep.equal({ verdict: 'none' });
  });

  it('shares each window between worker processes, one window per device', async () => {
    const [one, other] = [coalescer(), coalescer()];
    expect(await one.admit(signal('100-0'))).to.have.property('verdict', 'send');
    expect(await other.admit(signal('101-0'))).to.have.property('verdict', 'held');
    expect(await other.admit(signal('101-0', 'tablet'))).to.have.property('verdict', 'send');
  });

  describe('in the worker, against the APNs stand-in', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let dir: string;
    let apns: FakeApns;
    let fixture: WorkerFixture;
    const workers: HeraldWorker[] = [];
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'herald-coalesce-'));
      writeFileSync(join(dir, 'apns.p8'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    beforeEach(async () => {
      apns = await FakeApns.start({ teamId: 'TEAM123456', keyId: 'KEY1234567', publicKey, topic: 'com.example.herald' });
    });
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((worker) => worker.stop()));
      await fixture.close();
      await apns.close();
    });

    async function startWorker(): Promise<void> {
      const env = {
        HERALD_PUSH_PROVIDER_IOS: 'apns',
        HERALD_APNS_KEY_FILE: join(dir, 'apns.p8'),
        HERALD_APNS_KEY_ID: 'KEY1234567',
        HERALD_APNS_TEAM_ID: 'TEAM123456',
        HERALD_APNS_TOPIC: 'com.example.herald',
        HERALD_APNS_URL: apns.url,
        HERALD_PUSH_COALESCE_MS: '600',
      };
      const worker = createWorker(createWorkerDeps(workerConfig(redis, env), redis.url, { blockMs: 100, apnsCa: apns.ca }));
      workers.push(worker);
      await worker.start();
    }

    it('signals a burst of events once at once and once when the window ends, the last signal carrying the newest cursor, across two worker processes', async () => {
      fixture = new WorkerFixture(redis);
      await fixture.device('acct', 'iphone', 'ios', { pushToken: 'aaaa1111' });
      await fixture.device('acct', 'ipad', 'ios', { pushToken: 'bbbb2222' });
      await startWorker();
      await startWorker();
      let firstAccepted = 0;
      for (let i = 0; i < 10; i++) {
        await fixture.accept([{ id: `e${i}`, accountId: 'acct', ...(i % 3 === 2 ? { type: 'mylist.updated', priority: 'medium' as const } : {}) }]);
        if (i === 0) firstAccepted = Date.now();
        await sleep(20);
      }
      await waitFor('the first signal to the iPhone', () => expect(apns.requests.filter((r) => r.deviceToken === 'aaaa1111')).to.have.length.at.least(1));
      expect(apns.requests.find((r) => r.deviceToken === 'aaaa1111')!.at - firstAccepted, 'the first signal is not held').to.be.below(600);

      await waitFor('ten entries in history', async () => expect(await fixture.history.range('acct', undefined, 100)).to.have.length(10));
      const newest = await fixture.history.latestCursor('acct');
      for (const token of ['aaaa1111', 'bbbb2222']) {
        await waitFor(`a signal of the newest cursor to ${token}`, () =>
          expect(apns.requests.filter((r) => r.deviceToken === token).at(-1)?.body['cursor'], token).to.equal(newest),
        );
      }
      // Nothing waiting, delayed (a trailing signal) or running on either priority's iOS queue: nothing more can be sent.
      await Promise.all([fixture.deliveryIdle('ios', 'high'), fixture.deliveryIdle('ios', 'medium')]);
      const iphone = apns.requests.filter((r) => r.deviceToken === 'aaaa1111');
      expect(iphone.length, 'one at once, one at the end of each window the burst spans').to.be.within(2, 3);
      expect(iphone.at(-1)?.body['cursor']).to.equal(newest);
      // A window apart at the gate; the first request also waited for the TLS connection, so a little less here.
      for (let i = 1; i < iphone.length; i++) expect(iphone[i]!.at - iphone[i - 1]!.at, 'about a window apart').to.be.at.least(400);
      expect(apns.refused).to.deep.equal([]);
    });

    it("retries a window's trailing signal that APNs could not take, keeping its cursor", async () => {
      apns.script = () => (apns.requests.length === 2 ? { status: 503, reason: 'ServiceUnavailable', headers: { 'retry-after': '1' } } : undefined);
      fixture = new WorkerFixture(redis);
      await fixture.device('acct', 'iphone', 'ios', { pushToken: 'aaaa1111' });
      await startWorker();
      await fixture.accept([{ id: 'e1', accountId: 'acct' }]);
      await waitFor('the first signal', () => expect(apns.requests).to.have.length(1));
      await fixture.accept([{ id: 'e2', accountId: 'acct' }]);
      await waitFor('the retried and the coalesced signal', () => expect(apns.requests).to.have.length(3));
      const newest = await fixture.history.latestCursor('acct');
      expect(apns.requests.slice(1).map((r) => r.body['cursor'])).to.deep.equal([newest, newest]);
      expect(apns.requests[2]!.at - apns.requests[1]!.at, 'after the Retry-After').to.be.at.least(950);
    });
  });
});
