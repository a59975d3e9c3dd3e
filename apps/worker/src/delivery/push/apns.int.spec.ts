import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { APNS_MAX_PAYLOAD_BYTES, ApnsProvider, apnsPayload } from './apns.js';
import type { ApnsProviderOptions } from './apns.js';
import { FakeApns } from './apns.fixture.js';
import { tokenSignal } from './token-signal.fixture.js';

const TEAM = 'TEAM123456';
const KEY_ID = 'KEY1234567';
const TOPIC = 'com.example.herald';

describe('APNs provider', function () {
  this.timeout(10_000);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  let apns: FakeApns;
  let provider: ApnsProvider | undefined;
  let clock: number;
  const now = () => clock;

  beforeEach(async () => {
    clock = Date.now();
    apns = await FakeApns.start({ teamId: TEAM, keyId: KEY_ID, publicKey, topic: TOPIC, now });
  });
  afterEach(async () => {
    await provider?.close();
    provider = undefined;
    await apns.close();
  });

  const start = (options: Partial<ApnsProviderOptions> = {}) => {
    provider = new ApnsProvider({
      key: p8,
      keyId: KEY_ID,
      teamId: TEAM,
      topic: TOPIC,
      url: apns.url,
      ca: apns.ca,
      timeoutMs: 2000,
      concurrency: 10,
      now,
      ...options,
    });
    return provider;
  };

  it('sends a background push with an ES256 provider token, the topic, priority 5, and only the account and cursor in the body', async () => {
    const outcomes = await start().send('ios', [tokenSignal('phone')]);
    expect(outcomes).to.deep.equal([{ status: 'sent' }]);
    expect(apns.refused).to.deep.equal([]);
    const [request] = apns.requests;
    expect(request?.deviceToken).to.equal('token-phone');
    expect(request?.headers).to.include({ 'apns-topic': TOPIC, 'apns-push-type': 'background', 'apns-priority': '5' });
    expect(request?.body).to.deep.equal({ aps: { 'content-available': 1 }, accountId: 'acct', cursor: '1700000000000-0' });
    expect(decodeProtectedHeader(request!.jwt)).to.deep.equal({ alg: 'ES256', kid: KEY_ID });
    expect(decodeJwt(request!.jwt)).to.deep.equal({ iss: TEAM, iat: Math.floor(clock / 1000) });
  });

  it('keeps a payload for the longest account id and cursor within the 4 KB APNs allows', () => {
    expect(Buffer.byteLength(apnsPayload({ accountId: 'a'.repeat(128), cursor: `${'9'.repeat(20)}-${'9'.repeat(20)}` }))).to.be.below(
      APNS_MAX_PAYLOAD_BYTES / 10,
    );
  });

  it('reuses one provider token and one HTTP/2 connection across many signals, and mints a new token after 50 minutes', async () => {
    const push = start();
    for (let round = 0; round < 5; round++) {
      const outcomes = await push.send(
        'ios',
        Array.from({ length: 20 }, (_, i) => tokenSignal(`d${round}-${i}`)),
      );
      expect(outcomes.every((o) => o.status === 'sent')).to.equal(true);
    }
    expect(apns.requests).to.have.length(100);
    expect(new Set(apns.requests.map((r) => r.jwt)).size).to.equal(1);
    expect(apns.sessions).to.equal(1);

    clock += 49 * 60_000;
    await push.send('ios', [tokenSignal('later')]);
    expect(new Set(apns.requests.map((r) => r.jwt)).size, 'still the first token at 49 min').to.equal(1);
    clock += 2 * 60_000;
    await push.send('ios', [tokenSignal('after-refresh')]);
    const tokens = [...new Set(apns.requests.map((r) => r.jwt))];
    expect(tokens).to.have.length(2);
    expect(decodeJwt(tokens[1]!).iat).to.equal(Math.floor(clock / 1000));
    expect(apns.refused).to.deep.equal([]);
  });

  it('reports 410 Unregistered and 400 BadDeviceToken as dead tokens, and 429 and 5xx as retries after their Retry-After', async () => {
    const answers: Record<string, { status: number; reason?: string; headers?: Record<string, string> }> = {
      'token-unregistered': { status: 410, reason: 'Unregistered' },
      'token-malformed': { status: 400, reason: 'BadDeviceToken' },
      'token-throttled': { status: 429, reason: 'TooManyRequests', headers: { 'retry-after': '3' } },
      'token-down': { status: 503, reason: 'ServiceUnavailable' },
      'token-topic': { status: 400, reason: 'DeviceTokenNotForTopic' },
    };
    apns.script = (request) => answers[request.deviceToken];
    const outcomes = await start().send(
      'ios',
      ['unregistered', 'malformed', 'throttled', 'down', 'topic', 'fine'].map((d) => tokenSignal(d)),
    );
    expect(outcomes).to.deep.equal([
      { status: 'dead_token', reason: 'Unregistered' },
      { status: 'dead_token', reason: 'BadDeviceToken' },
      { status: 'retry', reason: 'APNs answered 429 TooManyRequests', retryAfterMs: 3000 },
      { status: 'retry', reason: 'APNs answered 503 ServiceUnavailable', retryAfterMs: undefined },
      { status: 'retry', reason: 'APNs answered 400 DeviceTokenNotForTopic', retryAfterMs: undefined },
      { status: 'sent' },
    ]);
  });

  it('opens a new connection after APNs sends GOAWAY, and keeps the provider token', async () => {
    const push = start();
    await push.send('ios', [tokenSignal('before')]);
    apns.goAway();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await push.send('ios', [tokenSignal('after')])).to.deep.equal([{ status: 'sent' }]);
    expect(apns.requests.map((r) => r.session)).to.deep.equal([1, 2]);
    expect(new Set(apns.requests.map((r) => r.jwt)).size).to.equal(1);
  });

  it('gives up on a request without an answer after its timeout, and on an APNs that is down, as retries', async () => {
    apns.script = (request) => (request.deviceToken === 'token-stuck' ? { status: 200, delayMs: Infinity } : undefined);
    const push = start({ timeoutMs: 300 });
    const began = Date.now();
    expect(await push.send('ios', [tokenSignal('stuck')])).to.deep.equal([{ status: 'retry', reason: 'APNs: no answer within 300 ms' }]);
    expect(Date.now() - began).to.be.below(1000);
    expect(await push.send('ios', [tokenSignal('fine')]), 'a new connection after the stuck one').to.deep.equal([{ status: 'sent' }]);

    await apns.close();
    const [down] = await push.send('ios', [tokenSignal('nobody')]);
    expect(down?.status).to.equal('retry');
  });

  it('keeps at most its concurrency of requests in flight', async () => {
    apns.script = () => ({ status: 200, delayMs: 30 });
    const outcomes = await start({ concurrency: 4 }).send(
      'ios',
      Array.from({ length: 20 }, (_, i) => tokenSignal(`d${i}`)),
    );
    expect(outcomes.filter((o) => o.status === 'sent')).to.have.length(20);
    expect(apns.maxInFlight).to.equal(4);
  });

  it('refuses a key that is not an EC P-256 private key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => start({ key: rsa })).to.throw(/EC P-256/);
  });
});
