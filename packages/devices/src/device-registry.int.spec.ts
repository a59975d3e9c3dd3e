import { expect } from 'chai';
import { SignJWT } from 'jose';
import { createKeys } from '@herald/redis';
import { useTestRedis } from '@herald/testing';
import { DeviceRegistry, DeviceTokens, Presence } from './index.js';

const SECRET = 'test-secret-test-secret-test-secret';

describe('device registry and tokens', () => {
  const redis = useTestRedis();
  const registry = (ttlSeconds = 3600, maxDevicesPerAccount = 100, now: () => number = Date.now) =>
    new DeviceRegistry({
      redis: redis.client,
      keys: createKeys(redis.prefix),
      tokens: new DeviceTokens({ secret: SECRET, ttlSeconds, now }),
      maxDevicesPerAccount,
      now,
    });

  it('registers a device and authenticates its token', async () => {
    const devices = registry();
    const { device, token } = await devices.register({ accountId: 'acct', platform: 'tv', profileId: 'kids' });
    expect(device.deviceId).to.be.a('string').with.length.above(0);
    const identity = await devices.authenticate(token);
    expect(identity).to.include({ accountId: 'acct', deviceId: device.deviceId, platform: 'tv', profileId: 'kids' });
    expect(identity.expiresAt).to.be.above(Date.now());
  });

  it('keeps the credential when a known device registers again, so its older tokens still work', async () => {
    const devices = registry();
    const first = await devices.register({ accountId: 'acct', platform: 'web', deviceId: 'd1' });
    const second = await devices.register({ accountId: 'acct', platform: 'web', deviceId: 'd1', profileId: 'p2' });
    expect(second.device.credentialId).to.equal(first.device.credentialId);
    expect(second.device.registeredAt).to.equal(first.device.registeredAt);
    expect((await devices.authenticate(first.token)).profileId).to.equal('p2');
    expect(await devices.list('acct')).to.have.length(1);
  });

  it('revokes tokens at once when the device is deleted, also after it is registered anew', async () => {
    const devices = registry();
    const { token } = await devices.register({ accountId: 'acct', platform: 'web', deviceId: 'd1' });
    expect(await devices.remove('acct', 'd1')).to.equal(true);
    expect(await devices.remove('acct', 'd1')).to.equal(false);
    await expectUnauthorized(devices.authenticate(token), /revoked/);
    await devices.register({ accountId: 'acct', platform: 'web', deviceId: 'd1' });
    await expectUnauthorized(devices.authenticate(token), /revoked/);
  });

  it('refuses expired, tampered, foreign and malformed tokens', async () => {
    let clock = Date.now();
    const devices = registry(60, 100, () => clock);
    const { token } = await devices.register({ accountId: 'acct', platform: 'ios' });
    const [header, body, signature] = token.split('.');
    await expectUnauthorized(devices.authenticate(`${header}.${body}.${signature!.slice(0, -2)}xx`), /invalid/);
    await expectUnauthorized(devices.authenticate('not-a-jwt'), /invalid/);
    const foreign = await new SignJWT({ acc: 'acct', plt: 'ios' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setJti('y')
      .setIssuer('herald')
      .setAudience('herald-device')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-another-secret-xx'));
    await expectUnauthorized(devices.authenticate(foreign), /invalid/);
    clock += 59_000;
    expect((await devices.authenticate(token)).expiresAt, 'valid until its ttl has passed').to.be.above(clock);
    clock += 1000;
    await expectUnauthorized(devices.authenticate(token), /expired/);
  });

  it('shows presence kept by the gateways as online', async () => {
    const devices = registry();
    await devices.register({ accountId: 'acct', platform: 'tv', deviceId: 'tv1' });
    await devices.register({ accountId: 'acct', platform: 'web', deviceId: 'web1' });
    const presence = new Presence({ redis: redis.client, keys: createKeys(redis.prefix) });
    await presence.markOnline('acct', 'tv1', 'gw-1', 30_000);
    await presence.markOnline('acct', 'web1', 'gw-1', -1);
    const view = await devices.view('acct');
    expect(view.map((d) => [d.deviceId, d.online])).to.deep.equal([
      ['tv1', true],
      ['web1', false],
    ]);
    expect(view[0]?.profileId).to.equal(null);
  });

  it('drops a dead push token, keeping the device and showing it without a token until it registers a new one', async () => {
    const devices = registry();
    await devices.register({ accountId: 'acct', platform: 'ios', deviceId: 'phone', pushToken: 'dead' });
    await devices.touch('acct', 'phone');
    expect(await devices.dropPushToken('acct', 'phone', 'dead')).to.equal(true);
    expect((await devices.get('acct', 'phone'))?.pushToken).to.equal(undefined);
    expect((await devices.view('acct')).map((d) => [d.deviceId, d.hasPushToken])).to.deep.equal([['phone', false]]);
    expect(await devices.dropPushToken('acct', 'phone', 'dead')).to.equal(false);
    await devices.register({ accountId: 'acct', platform: 'ios', deviceId: 'phone', pushToken: 'fresh' });
    expect((await devices.view('acct'))[0]?.hasPushToken).to.equal(true);
  });

  it('keeps a push token registered after the dead one was reported', async () => {
    const devices = registry();
    await devices.register({ accountId: 'acct', platform: 'android', deviceId: 'phone', pushToken: 'old' });
    await devices.register({ accountId: 'acct', platform: 'android', deviceId: 'phone', pushToken: 'new' });
    expect(await devices.dropPushToken('acct', 'phone', 'old')).to.equal(false);
    expect((await devices.get('acct', 'phone'))?.pushToken).to.equal('new');
    expect(await devices.dropPushToken('acct', 'gone', 'old')).to.equal(false);
  });

  it('refuses one device more than the per-account limit', async () => {
    const devices = registry(3600, 2);
    await devices.register({ accountId: 'acct', platform: 'tv', deviceId: 'a' });
    await devices.register({ accountId: 'acct', platform: 'tv', deviceId: 'b' });
    await devices.register({ accountId: 'acct', platform: 'web', deviceId: 'b' });
    try {
      await devices.register({ accountId: 'acct', platform: 'tv', deviceId: 'c' });
      expect.fail('expected a conflict');
    } catch (error) {
      expect(error).to.have.property('code', 'conflict');
    }
  });
});

async function expectUnauthorized(promise: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.have.property('code', 'unauthorized');
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail('expected the token to be refused');
}

describe('presence', () => {
  const redis = useTestRedis();
  const presence = (now: () => number = Date.now) => new Presence({ redis: redis.client, keys: createKeys(redis.prefix), now });

  it('keeps a device online while any gateway node holds it', async () => {
    const p = presence();
    await p.markOnline('acct', 'tv', 'node-a', 30_000);
    await p.markOnline('acct', 'tv', 'node-b', 30_000);
    await p.markOffline('acct', 'tv', 'node-a');
    expect([...(await p.onlineDevices('acct'))]).to.deep.equal(['tv']);
    await p.markOffline('acct', 'tv', 'node-b');
    expect((await p.onlineDevices('acct')).size).to.equal(0);
  });

  it("lets a crashed node's devices fall offline when their expiry passes, and cleans them up", async () => {
    let clock = Date.now();
    const p = presence(() => clock);
    await p.markOnline('acct', 'tv', 'crashed', 50);
    clock += 49;
    expect((await p.onlineDevices('acct')).has('tv')).to.equal(true);
    clock += 1;
    expect((await p.onlineDevices('acct')).has('tv')).to.equal(false);
    expect(await redis.client.hlen(createKeys(redis.prefix).presence('acct'))).to.equal(0);
  });

  it('forgets every connection of a deleted device', async () => {
    const p = presence();
    await p.markOnline('acct', 'tv', 'a', 30_000);
    await p.markOnline('acct', 'tv', 'b', 30_000);
    await p.markOnline('acct', 'web', 'a', 30_000);
    await p.forget('acct', 'tv');
    expect([...(await p.onlineDevices('acct'))]).to.deep.equal(['web']);
  });
});
