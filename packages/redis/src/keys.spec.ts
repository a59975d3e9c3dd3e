import { expect } from 'chai';
import { createKeys, escapeId, keySlot } from './index.js';

/** The hash tag Redis Cluster hashes: the text between the first `{` and the next `}`. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('key builder', () => {
  const keys = createKeys('herald');

  it('puts a partition stream and its idempotency marks on one slot', () => {
    expect(hashTag(keys.stream('high', 2))).to.equal(hashTag(keys.seen('high', 2, 123)));
    expect(hashTag(keys.stream('high', 2))).to.equal(hashTag(keys.backlog('high', 2)));
    expect(hashTag(keys.stream('high', 2))).to.equal(hashTag(keys.liveStream('high', 2)));
    expect(hashTag(keys.liveStream('high', 2)))
      .to.equal(hashTag(keys.liveSequence('high', 2)))
      .and.to.equal(hashTag(keys.liveTail('high', 2)));
    expect(hashTag(keys.stream('high', 2))).not.to.equal(hashTag(keys.stream('high', 3)));
    expect(hashTag(keys.stream('high', 2))).not.to.equal(hashTag(keys.stream('low', 2)));
  });

  it('cannot be moved to another slot or collide by braces in an account id', () => {
    expect(hashTag(keys.devices('a}b'))).to.equal('a:a%7Db');
    expect(keys.devices('a{b')).not.to.equal(keys.devices('a%7Bb'));
    expect(escapeId('%{}')).to.equal('%25%7B%7D');
  });

  it("keeps a device's push window and held signal on its account's slot", () => {
    expect(hashTag(keys.pushWindow('acct', 'phone'))).to.equal(hashTag(keys.devices('acct')));
    expect(hashTag(keys.pushHeld('acct', 'phone'))).to.equal(hashTag(keys.devices('acct')));
    expect(keys.pushWindow('acct', 'a:b')).not.to.equal(keys.pushWindow('acct:a', 'b'));
  });

  it('refuses ids that are not well-formed Unicode, which would share keys once stored as UTF-8 (regression: "victim-\\ud800" and "victim-\\udbff" named the same keys)', () => {
    for (const id of ['victim-\ud800', 'victim-\udbff', '\udc00', 'a\ude00\ud83d']) {
      expect(() => keys.devices(id), JSON.stringify(id)).to.throw(RangeError, /unpaired UTF-16 surrogate/);
      expect(() => keys.history(id), JSON.stringify(id)).to.throw(RangeError);
      expect(() => keys.trace(id), JSON.stringify(id)).to.throw(RangeError);
    }
    expect(keys.devices('emoji-\ud83d\ude00')).to.equal('herald:{a:emoji-\ud83d\ude00}:devices');
  });

  it('gives each BullMQ queue a hash tag of its own in its prefix, so queues spread over a Cluster', () => {
    expect(keys.queuePrefix('web', 'high')).to.equal('herald:{q:high:web}');
    expect(hashTag(keys.queuePrefix('web', 'high'))).not.to.equal(hashTag(keys.queuePrefix('web', 'low')));
  });

  it('spreads the partitions and the queues of the default layout over 3 masters with equal slot ranges', () => {
    // The ranges redis-cli --cluster create gives 3 masters.
    const master = (key: string) => (keySlot(key) <= 5460 ? 0 : keySlot(key) <= 10922 ? 1 : 2);
    const spread = (keysOf: string[]) => [0, 1, 2].map((m) => keysOf.filter((key) => master(key) === m).length);
    const priorities = ['high', 'medium', 'low'] as const;
    expect(spread(priorities.flatMap((p) => [0, 1, 2, 3].map((n) => keys.stream(p, n)))), 'partitions').to.deep.equal([4, 4, 4]);
    expect(
      spread(priorities.flatMap((p) => (['web', 'tv', 'ios', 'android'] as const).map((platform) => keys.queuePrefix(platform, p)))),
      'queues',
    ).to.deep.equal([4, 3, 5]);
    const accounts = spread(Array.from({ length: 3000 }, (_, i) => keys.history(`acct-${i}`)));
    for (const share of accounts) expect(share, 'accounts').to.be.within(900, 1100);
  });

  it('tags the keys shared by a whole priority or the whole system', () => {
    expect(hashTag(keys.routers('high'))).to.equal('p:high');
    expect(hashTag(keys.tap)).to.equal('tap');
    expect(hashTag(keys.gatewayNodes)).to.equal('gateway-nodes');
    expect(hashTag(keys.historyAppended('low', 3))).to.equal(hashTag(keys.stream('low', 3)));
  });

  it('computes the slot CLUSTER KEYSLOT answers', () => {
    // Redis Cluster's specification: CRC16("123456789") = 0x31C3; 12739 mod 16384.
    expect(keySlot('123456789')).to.equal(12739);
    expect(keySlot('{user1000}.following')).to.equal(keySlot('{user1000}.followers'));
    // Values redis-server 7 answers: an empty tag hashes the whole key; UTF-8 bytes, not UTF-16.
    expect([keySlot('foo{}{bar}'), keySlot('{a:acct}:devices'), keySlot('herald:{p:high:0}:events'), keySlot('é')]).to.deep.equal([8363, 7631, 7949, 10180]);
  });

  it('rejects a prefix that could break key parsing', () => {
    expect(() => createKeys('a:b')).to.throw(/Invalid key prefix/);
  });
});
