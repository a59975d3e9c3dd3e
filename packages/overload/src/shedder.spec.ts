import { expect } from 'chai';
import type { Priority } from '@herald/contracts';
import { ShedDecider } from './shedder.js';

describe('ShedDecider', () => {
  const decider = (fractions: Record<Priority, number>) => new ShedDecider(() => fractions, 5);
  const refused = (d: ShedDecider, priority: Priority, n: number) => Array.from({ length: n }, () => d.decide(priority) !== undefined);

  it('refuses exactly the shed fraction, evenly spread', () => {
    const d = decider({ high: 0, medium: 0.5, low: 0.25 });
    expect(refused(d, 'low', 8)).to.deep.equal([false, false, false, true, false, false, false, true]);
    expect(refused(d, 'medium', 4)).to.deep.equal([false, true, false, true]);
    const many = refused(decider({ high: 0, medium: 0, low: 0.3 }), 'low', 1000);
    expect(many.filter(Boolean)).to.have.length(300);
  });

  it('never refuses high priority, even were a fraction set for it', () => {
    const d = decider({ high: 1, medium: 1, low: 1 });
    expect(refused(d, 'high', 100).some(Boolean)).to.equal(false);
    expect(refused(d, 'low', 3)).to.deep.equal([true, true, true]);
  });

  it('starts afresh after a priority stopped being shed', () => {
    const fractions: Record<Priority, number> = { high: 0, medium: 0, low: 0.5 };
    const d = new ShedDecider(() => fractions, 5);
    expect(refused(d, 'low', 1)).to.deep.equal([false]);
    fractions.low = 0;
    expect(refused(d, 'low', 3)).to.deep.equal([false, false, false]);
    fractions.low = 0.5;
    expect(refused(d, 'low', 2)).to.deep.equal([false, true]);
  });

  it('asks for a longer Retry-After the more it sheds: ceil(fraction × max), at least 1 s', () => {
    const d = decider({ high: 0, medium: 0, low: 0 });
    expect([0.05, 0.2, 0.21, 0.5, 1].map((f) => d.retryAfterSeconds(f))).to.deep.equal([1, 1, 2, 3, 5]);
    expect(decider({ high: 0, medium: 0, low: 1 }).decide('low')).to.deep.equal({ retryAfterSeconds: 5 });
  });
});
