import { expect } from 'chai';
import { TokenBucket } from './token-bucket.js';

describe('token bucket', () => {
  it('allows a burst, then refuses until time refills it', () => {
    let now = 0;
    const bucket = new TokenBucket(3, 2, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).to.deep.equal([true, true, true, false]);
    now = 499;
    expect(bucket.take()).to.equal(false);
    now = 500;
    expect(bucket.take()).to.equal(true);
    expect(bucket.take()).to.equal(false);
  });

  it('never holds more than its burst however long it idles', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 100, () => now);
    now = 60_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).to.deep.equal([true, true, false]);
  });
});
