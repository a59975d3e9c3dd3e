import { expect } from 'chai';
import { RateSampler } from './rate-sampler.js';

const counters = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('RateSampler', () => {
  it('has no rate for the first reading', () => {
    expect(new RateSampler().observe(1000, counters({ a: 5 }))).to.equal(undefined);
  });

  it('compares with the newest reading at least minIntervalMs old', () => {
    const sampler = new RateSampler({ minIntervalMs: 1000 });
    sampler.observe(0, counters({ a: 0 }));
    sampler.observe(1500, counters({ a: 30 }));
    sampler.observe(2000, counters({ a: 40 }));
    const deltas = sampler.observe(3000, counters({ a: 100 }))!;
    expect(deltas.seconds).to.equal(1);
    expect(deltas.delta('a')).to.equal(60);
  });

  it('falls back to the oldest reading when none is old enough', () => {
    const sampler = new RateSampler({ minIntervalMs: 1000 });
    sampler.observe(0, counters({ a: 0 }));
    sampler.observe(200, counters({ a: 5 }));
    const deltas = sampler.observe(400, counters({ a: 10 }))!;
    expect(deltas.seconds).to.equal(0.4);
    expect(deltas.delta('a')).to.equal(10);
  });

  it('counts a counter that shrank as 0, and one it did not see before as unknown', () => {
    const sampler = new RateSampler({ minIntervalMs: 0 });
    sampler.observe(0, counters({ a: 50 }));
    const deltas = sampler.observe(1000, counters({ a: 10, b: 3 }))!;
    expect(deltas.delta('a')).to.equal(0);
    expect(deltas.delta('b')).to.equal(undefined);
  });

  it('forgets readings older than maxAgeMs', () => {
    const sampler = new RateSampler({ minIntervalMs: 0, maxAgeMs: 10_000 });
    sampler.observe(0, counters({ a: 0 }));
    sampler.observe(20_000, counters({ a: 10 }));
    expect(sampler.observe(21_000, counters({ a: 20 }))!.seconds).to.equal(1);
  });

  it('refuses nonsense options', () => {
    expect(() => new RateSampler({ minIntervalMs: -1 })).to.throw(RangeError);
    expect(() => new RateSampler({ minIntervalMs: 5000, maxAgeMs: 1000 })).to.throw(RangeError);
  });
});
