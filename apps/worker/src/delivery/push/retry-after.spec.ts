import { expect } from 'chai';
import { PUSH_BACKOFF } from '../../jobs.js';
import { PushRetryError, pushBackoffStrategy } from './push-delivery.js';
import { retryAfterMs } from './retry-after.js';

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates, and ignores what it cannot read', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('7', now)).to.equal(7000);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).to.equal(30_000);
    expect(retryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now)).to.equal(0);
    expect(retryAfterMs('soon', now)).to.equal(undefined);
    expect(retryAfterMs(null, now)).to.equal(undefined);
  });

  it('delays a push retry exponentially, but never sooner than the provider asked, and at most 15 minutes for it', () => {
    const { type } = PUSH_BACKOFF;
    expect([1, 2, 3].map((attempt) => pushBackoffStrategy(attempt, type, new Error('x')))).to.deep.equal([500, 1000, 2000]);
    expect(pushBackoffStrategy(1, type, new PushRetryError('throttled', 5000))).to.equal(5000);
    expect(pushBackoffStrategy(4, type, new PushRetryError('throttled', 1000))).to.equal(4000);
    expect(pushBackoffStrategy(1, type, new PushRetryError('down', 24 * 3_600_000))).to.equal(15 * 60_000);
  });
});
