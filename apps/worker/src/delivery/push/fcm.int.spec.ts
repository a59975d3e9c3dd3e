import { expect } from 'chai';
import { FcmProvider } from './fcm.js';
import type { FcmProviderOptions } from './fcm.js';
import { FakeFcm } from './fcm.fixture.js';
import { tokenSignal } from './token-signal.fixture.js';

describe('FCM provider', function () {
  this.timeout(10_000);
  let fcm: FakeFcm;
  let clock: number;
  const now = () => clock;

  beforeEach(async () => {
    clock = Date.now();
    fcm = await FakeFcm.start({ now });
  });
  afterEach(() => fcm.close());

  const provider = (options: Partial<FcmProviderOptions> = {}) =>
    new FcmProvider({ serviceAccount: fcm.serviceAccount, url: fcm.url, timeoutMs: 2000, concurrency: 10, now, ...options });

  it('sends data messages of strings only, high priority for high-priority events, normal otherwise, and no notification block', async () => {
    const push = provider();
    const outcomes = await push.send('android', [tokenSignal('a'), tokenSignal('b', { priority: 'medium' }), tokenSignal('c', { priority: 'low' })]);
    expect(outcomes).to.deep.equal([{ status: 'sent' }, { status: 'sent' }, { status: 'sent' }]);
    expect(fcm.refused).to.deep.equal([]);
    expect(fcm.requests.map((r) => r.message)).to.deep.equal([
      { token: 'token-a', data: { accountId: 'acct', cursor: '1700000000000-0' }, android: { priority: 'high' } },
      { token: 'token-b', data: { accountId: 'acct', cursor: '1700000000000-0' }, android: { priority: 'normal' } },
      { token: 'token-c', data: { accountId: 'acct', cursor: '1700000000000-0' }, android: { priority: 'normal' } },
    ]);
  });

  it('reaches an iOS app through FCM with a silent background push', async () => {
    expect(await provider().send('ios', [tokenSignal('phone')])).to.deep.equal([{ status: 'sent' }]);
    expect(fcm.requests[0]?.message).to.deep.equal({
      token: 'token-phone',
      data: { accountId: 'acct', cursor: '1700000000000-0' },
      apns: { headers: { 'apns-push-type': 'background', 'apns-priority': '5' }, payload: { aps: { 'content-available': 1 } } },
    });
  });

  it('gets one access token for many signals with an RS256 assertion, and another shortly before it expires', async () => {
    const push = provider();
    for (let round = 0; round < 3; round++)
      await push.send(
        'android',
        Array.from({ length: 20 }, (_, i) => tokenSignal(`d${round}-${i}`)),
      );
    expect(fcm.requests).to.have.length(60);
    expect(fcm.issued.size).to.equal(1);
    expect(new Set(fcm.requests.map((r) => r.accessToken)).size).to.equal(1);

    clock += 50 * 60_000;
    await push.send('android', [tokenSignal('later')]);
    expect(fcm.issued.size, 'still the first token 10 min before it expires').to.equal(1);
    clock += 6 * 60_000;
    await push.send('android', [tokenSignal('renewed')]);
    expect(fcm.issued.size).to.equal(2);
    expect(fcm.requests.at(-1)?.accessToken).to.equal([...fcm.issued.keys()][1]);
    expect(fcm.refused).to.deep.equal([]);
  });

  it('reports 404 UNREGISTERED as a dead token, and 429 and 5xx as retries after their Retry-After', async () => {
    fcm.script = ({ message }) =>
      ({
        'token-gone': { status: 404, errorCode: 'UNREGISTERED' },
        'token-busy': { status: 429, errorCode: 'QUOTA_EXCEEDED', headers: { 'retry-after': '2' } },
        'token-down': { status: 503 },
      })[message.token];
    const outcomes = await provider().send(
      'android',
      ['gone', 'busy', 'down', 'fine'].map((d) => tokenSignal(d)),
    );
    expect(outcomes).to.deep.equal([
      { status: 'dead_token', reason: 'UNREGISTERED' },
      { status: 'retry', reason: 'FCM answered 429 QUOTA_EXCEEDED', retryAfterMs: 2000 },
      { status: 'retry', reason: 'FCM answered 503 UNAVAILABLE', retryAfterMs: undefined },
      { status: 'sent' },
    ]);
  });

  it('gets a new access token after FCM refuses the one it has', async () => {
    const push = provider();
    await push.send('android', [tokenSignal('a')]);
    fcm.issued.clear();
    const [refused] = await push.send('android', [tokenSignal('b')]);
    expect(refused).to.deep.include({ status: 'retry', reason: 'FCM answered 401 UNAUTHENTICATED' });
    expect(await push.send('android', [tokenSignal('b')])).to.deep.equal([{ status: 'sent' }]);
  });

  it('gets its access token with an assertion signed by the service account for the token endpoint and the FCM scope', async () => {
    await provider().send('android', [tokenSignal('a')]);
    const [claims] = fcm.assertions;
    expect(claims).to.include({
      iss: fcm.serviceAccount.client_email,
      aud: fcm.serviceAccount.token_uri,
      scope: 'https://www.googleapis.com/auth/firebase.messaging',
      iat: Math.floor(clock / 1000),
    });
    expect(claims!.exp! - claims!.iat!).to.equal(3600);
  });

  it('gives up on a token endpoint or an FCM that does not answer in time, as retries', async () => {
    fcm.tokenDelayMs = 1000;
    const [noToken] = await provider({ timeoutMs: 200 }).send('android', [tokenSignal('a')]);
    expect(noToken?.status).to.equal('retry');
    fcm.tokenDelayMs = 0;
    fcm.script = () => ({ status: 200, delayMs: 1000 });
    const [slow] = await provider({ timeoutMs: 200 }).send('android', [tokenSignal('b')]);
    expect(slow?.status).to.equal('retry');
    expect(slow)
      .to.have.property('reason')
      .that.matches(/FCM: .*(timeout|aborted)/i);
  });
});
