import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import { ConfigError } from '@herald/config';
import { useTestRedis, waitFor } from '@herald/testing';
import { createWorker, createWorkerDeps } from '../../index.js';
import type { HeraldWorker } from '../../index.js';
import { WorkerFixture, workerConfig } from '../../worker.fixture.js';
import { FakeApns } from './apns.fixture.js';
import { FakeFcm } from './fcm.fixture.js';

const TEAM = 'TEAM123456';
const KEY_ID = 'KEY1234567';
const TOPIC = 'com.example.herald';

/** The worker end to end with APNs for iOS and FCM for Android, both local stand-ins, configured as in production. */
describe('mobile push through APNs and FCM', function () {
  this.timeout(15_000);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let dir: string;
  let apns: FakeApns;
  let fcm: FakeFcm;
  let fixture: WorkerFixture;
  let env: Record<string, string>;
  const workers: HeraldWorker[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-push-keys-'));
    writeFileSync(join(dir, 'apns.p8'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    apns = await FakeApns.start({ teamId: TEAM, keyId: KEY_ID, publicKey, topic: TOPIC });
    fcm = await FakeFcm.start();
    writeFileSync(join(dir, 'fcm.json'), fcm.serviceAccountJson());
    env = {
      HERALD_PUSH_PROVIDER_IOS: 'apns',
      HERALD_PUSH_PROVIDER_ANDROID: 'fcm',
      HERALD_APNS_KEY_FILE: join(dir, 'apns.p8'),
      HERALD_APNS_KEY_ID: KEY_ID,
      HERALD_APNS_TEAM_ID: TEAM,
      HERALD_APNS_TOPIC: TOPIC,
      HERALD_APNS_URL: apns.url,
      HERALD_FCM_SERVICE_ACCOUNT_FILE: join(dir, 'fcm.json'),
      HERALD_FCM_URL: fcm.url,
    };
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await fixture.close();
    await Promise.all([apns.close(), fcm.close()]);
  });
  const redis = useTestRedis();

  async function startWorker(extra: Record<string, string> = {}): Promise<HeraldWorker> {
    const worker = createWorker(createWorkerDeps(workerConfig(redis, { ...env, ...extra }), redis.url, { blockMs: 100, apnsCa: apns.ca }));
    workers.push(worker);
    await worker.start();
    return worker;
  }

  async function metric(worker: HeraldWorker, pattern: RegExp): Promise<number> {
    const server = worker.http.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    const text = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
    server.close();
    const line = text.split('\n').find((l) => pattern.test(l));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  it('signals iOS devices through APNs and Android devices through FCM with the newest cursor, and a device without a token not at all', async () => {
    fixture = new WorkerFixture(redis);
    await fixture.startSockets();
    const web = await fixture.device('acct', 'web1', 'web', { online: true });
    await fixture.device('acct', 'iphone', 'ios', { pushToken: 'aaaa1111' });
    await fixture.device('acct', 'pixel', 'android', { pushToken: 'fcm-token-1' });
    await fixture.device('acct', 'ipad', 'ios');
    await startWorker();
    await fixture.accept([{ id: 'e1', accountId: 'acct', payload: { plan: 'secret-plan' } }]);

    await waitFor('one signal per transport', () => {
      expect(apns.requests).to.have.length(1);
      expect(fcm.requests).to.have.length(1);
      expect(web).to.have.length(1);
    });
    const cursor = await fixture.history.latestCursor('acct');
    expect(apns.requests[0]).to.deep.include({ deviceToken: 'aaaa1111', body: { aps: { 'content-available': 1 }, accountId: 'acct', cursor } });
    expect(fcm.requests[0]?.message).to.deep.equal({ token: 'fcm-token-1', data: { accountId: 'acct', cursor }, android: { priority: 'high' } });
    expect(apns.refused.concat(fcm.refused)).to.deep.equal([]);
    await fixture.deliveryIdle('ios');
    expect(apns.requests, 'nothing for the iPad without a token').to.have.length(1);
  });

  it('drops the tokens APNs and FCM report dead from their devices at once, counts them, and signals those devices again only with a new token', async () => {
    apns.script = ({ deviceToken }) =>
      deviceToken === 'dead0001' ? { status: 410, reason: 'Unregistered' } : deviceToken === 'bad00001' ? { status: 400, reason: 'BadDeviceToken' } : undefined;
    fcm.script = ({ message }) => (message.token === 'fcm-dead' ? { status: 404, errorCode: 'UNREGISTERED' } : undefined);
    fixture = new WorkerFixture(redis);
    await fixture.device('acct', 'old-iphone', 'ios', { pushToken: 'dead0001' });
    await fixture.device('acct', 'bad-iphone', 'ios', { pushToken: 'bad00001' });
    await fixture.device('acct', 'old-pixel', 'android', { pushToken: 'fcm-dead' });
    await fixture.device('acct', 'pixel', 'android', { pushToken: 'fcm-live' });
    const worker = await startWorker();
    await fixture.accept([{ id: 'e1', accountId: 'acct' }]);

    await waitFor('the dead push tokens to be dropped', async () => {
      const view = await fixture.devices.view('acct');
      expect(view.filter((d) => !d.hasPushToken).map((d) => d.deviceId)).to.have.members(['old-iphone', 'bad-iphone', 'old-pixel']);
    });
    expect(await metric(worker, /herald_push_dead_tokens_total\{platform="ios",provider="apns"/)).to.equal(2);
    expect(await metric(worker, /herald_push_dead_tokens_total\{platform="android",provider="fcm"/)).to.equal(1);

    await fixture.accept([{ id: 'e2', accountId: 'acct' }]);
    await waitFor('two signals to the live FCM token', () => expect(fcm.requests.filter((r) => r.message.token === 'fcm-live')).to.have.length(2));
    await Promise.all([fixture.deliveryIdle('ios'), fixture.deliveryIdle('android')]);
    expect(
      apns.requests.map((r) => r.deviceToken),
      'dead tokens are not retried, nor signalled again',
    ).to.have.members(['dead0001', 'bad00001']);
    expect(fcm.requests.filter((r) => r.message.token === 'fcm-dead')).to.have.length(1);

    await fixture.device('acct', 'old-iphone', 'ios', { pushToken: 'fresh001' });
    await fixture.accept([{ id: 'e3', accountId: 'acct' }]);
    await waitFor('a signal to the fresh token', () => expect(apns.requests.map((r) => r.deviceToken)).to.include('fresh001'));
  });

  it('retries a device APNs answered 503 after its Retry-After, without signalling again the devices it reached', async () => {
    let refusals = 0;
    apns.script = ({ deviceToken }) =>
      deviceToken === 'busy0001' && refusals++ < 2 ? { status: 503, reason: 'ServiceUnavailable', headers: { 'retry-after': '1' } } : undefined;
    fixture = new WorkerFixture(redis);
    await fixture.device('acct', 'busy', 'ios', { pushToken: 'busy0001' });
    await fixture.device('acct', 'fine', 'ios', { pushToken: 'fine0001' });
    await startWorker();
    await fixture.accept([{ id: 'e1', accountId: 'acct' }]);

    await waitFor('three tries to the busy device', () => expect(apns.requests.filter((r) => r.deviceToken === 'busy0001')).to.have.length(3), {
      timeoutMs: 8000,
    });
    const busy = apns.requests.filter((r) => r.deviceToken === 'busy0001').map((r) => r.at);
    expect(busy[1]! - busy[0]!).to.be.at.least(950);
    expect(busy[2]! - busy[1]!).to.be.at.least(950);
    expect(apns.requests.filter((r) => r.deviceToken === 'fine0001')).to.have.length(1);
    expect(new Set(apns.requests.map((r) => r.jwt)).size, 'one provider token throughout').to.equal(1);
    expect(apns.sessions, 'one connection throughout').to.equal(1);
  });

  it('keeps delivering to web and Android devices while APNs does not answer, and keeps the iOS job as failed after its attempts', async () => {
    apns.script = () => ({ status: 200, delayMs: Infinity });
    fixture = new WorkerFixture(redis);
    await fixture.startSockets();
    const web = await fixture.device('acct', 'web1', 'web', { online: true });
    await fixture.device('acct', 'iphone', 'ios', { pushToken: 'aaaa1111' });
    await fixture.device('acct', 'pixel', 'android', { pushToken: 'fcm-token-1' });
    await startWorker({ HERALD_PUSH_TIMEOUT_MS: '1000', HERALD_DELIVERY_ATTEMPTS: '2' });
    const began = Date.now();
    await fixture.accept([{ id: 'e1', accountId: 'acct' }]);
    await waitFor('the web push and the FCM signal', () => {
      expect(web).to.have.length(1);
      expect(fcm.requests).to.have.length(1);
    });
    expect(Date.now() - began, 'web and Android did not wait for APNs').to.be.below(1000);

    const ios = new Queue(fixture.keys.deliveryQueue('ios', 'high'), { connection: fixture.connection(), prefix: fixture.keys.queuePrefix('ios', 'high') });
    await waitFor('the iOS job to fail', async () => expect(await ios.getFailedCount()).to.equal(1), { timeoutMs: 8000 });
    const [failed] = await ios.getFailed();
    expect(failed?.attemptsMade).to.equal(2);
    expect(failed?.failedReason).to.match(/no answer within 1000 ms/);
    await ios.close();
  });

  it('refuses to start when a key file is missing or holds no usable key', () => {
    fixture = new WorkerFixture(redis);
    expect(() => createWorkerDeps(workerConfig(redis, { ...env, HERALD_APNS_KEY_FILE: join(dir, 'missing.p8') }), redis.url)).to.throw(
      ConfigError,
      /HERALD_APNS_KEY_FILE: cannot read/,
    );
    writeFileSync(join(dir, 'not-a-key.p8'), 'hello');
    expect(() => createWorkerDeps(workerConfig(redis, { ...env, HERALD_APNS_KEY_FILE: join(dir, 'not-a-key.p8') }), redis.url)).to.throw(
      ConfigError,
      /is not an APNs signing key/,
    );
    writeFileSync(join(dir, 'half.json'), JSON.stringify({ project_id: 'p', client_email: 'e@x' }));
    expect(() => createWorkerDeps(workerConfig(redis, { ...env, HERALD_FCM_SERVICE_ACCOUNT_FILE: join(dir, 'half.json') }), redis.url)).to.throw(
      ConfigError,
      /private_key.*token_uri|token_uri.*private_key/,
    );
  });
});
