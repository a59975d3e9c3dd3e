import { expect } from 'chai';
import { createKeys, escapeId } from './index.js';

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
    expect(hashTag(keys.liveStream('high', 2))).to.equal(hashTag(keys.liveSequence('high', 2))).and.to.equal(hashTag(keys.liveTail('high', 2)));
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

  it('gives BullMQ a hash-tagged prefix', () => {
    expect(keys.bullPrefix).to.equal('{herald:bull}');
  });

  it('rejects a prefix that could break key parsing', () => {
    expect(() => createKeys('a:b')).to.throw(/Invalid key prefix/);
  });
});
