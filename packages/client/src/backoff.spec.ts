import { expect } from 'chai';
import { backoffDelay, resolveBackoff } from './backoff.js';

describe('backoffDelay', () => {
  const backoff = resolveBackoff({ initialDelayMs: 100, maxDelayMs: 1000, randomizationFactor: 0.5 });

  it('doubles from the initial delay and stops at the maximum', () => {
    const middle = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 10, 5000].map((attempt) => backoffDelay(attempt, backoff, middle))).to.deep.equal([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('spreads each delay by ±randomizationFactor, never past the maximum', () => {
    expect(backoffDelay(1, backoff, () => 0)).to.equal(100);
    expect(backoffDelay(1, backoff, () => 0.999999)).to.equal(300);
    expect(backoffDelay(4, backoff, () => 0.999999)).to.equal(1000);
  });

  it('refuses nonsense options', () => {
    expect(() => resolveBackoff({ initialDelayMs: 0 })).to.throw(RangeError);
    expect(() => resolveBackoff({ initialDelayMs: 100, maxDelayMs: 50 })).to.throw(RangeError);
    expect(() => resolveBackoff({ randomizationFactor: 2 })).to.throw(RangeError);
  });
});
