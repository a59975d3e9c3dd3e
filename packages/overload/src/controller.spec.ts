import { expect } from 'chai';
import { OverloadController } from './controller.js';
import type { OverloadReading, OverloadState } from './controller.js';
import { NO_SIGNALS } from './signals.js';
import type { OverloadSignals } from './signals.js';

const THRESHOLDS = { cpu: 0.8, eventLoopDelayMs: 25, redisRttMs: 5, highAgeMs: 100 };
const QUEUE_AGE_MS = 2000;

function controller(options: { cooldownMs?: number } = {}) {
  return new OverloadController({ thresholds: THRESHOLDS, releaseRatio: 0.85, queueAgeMs: QUEUE_AGE_MS, cooldownMs: options.cooldownMs ?? 0 });
}

const reading = (signals: Partial<OverloadSignals>, queueAgeMs: Partial<OverloadReading['queueAgeMs']> = {}): OverloadReading => ({
  signals: { ...NO_SIGNALS, ...signals },
  queueAgeMs: { low: 0, medium: 0, ...queueAgeMs },
});
const OVERLOADED = reading({ cpu: 0.95 });
const HOLDING = reading({ cpu: 0.75 });
const CLEAR = reading({ cpu: 0.3 });

/** Runs `ticks` ticks of the same reading, 250 ms apart from `start`; returns every state. */
function run(c: OverloadController, r: OverloadReading, ticks: number, start = 0): OverloadState[] {
  return Array.from({ length: ticks }, (_, i) => c.update(r, start + i * 250));
}

describe('OverloadController', () => {
  it('measures pressure as the worst signal over its threshold, leaving out signals with threshold 0 or not measured', () => {
    const c = new OverloadController({ thresholds: { ...THRESHOLDS, redisRttMs: 0 }, releaseRatio: 0.85, queueAgeMs: QUEUE_AGE_MS });
    expect(c.pressureOf({ cpu: 0.4, eventLoopDelayMs: 30, redisRttMs: 50, highAgeMs: null })).to.deep.equal({ pressure: 1.2, cause: 'eventLoopDelayMs' });
    expect(c.pressureOf(NO_SIGNALS)).to.deep.equal({ pressure: 0, cause: null });
    expect(c.pressureOf({ ...NO_SIGNALS, highAgeMs: 250 })).to.deep.equal({ pressure: 2.5, cause: 'highAgeMs' });
  });

  it('does nothing while the signals stay below their thresholds', () => {
    const c = controller();
    for (const state of run(c, reading({ cpu: 0.79, eventLoopDelayMs: 20, redisRttMs: 1, highAgeMs: 10 }), 20)) {
      expect(state).to.deep.include({ level: 0, condition: 'hold' });
      expect(state.shed).to.deep.equal({ high: 0, medium: 0, low: 0 });
    }
  });

  it('yields low priority progressively, multiplicatively, before touching medium', () => {
    const c = controller();
    const levels = run(c, OVERLOADED, 13).map((s) => s.level);
    expect(levels.slice(0, 4)).to.deep.equal([0.25, 0.4375, 0.578125, 0.683594]);
    // Low's share falls below the floor (0.05) on the 11th cut and counts as fully yielded: then medium starts.
    expect(levels[10]).to.equal(1);
    expect(c.state.yield.low).to.equal(1);
    expect(levels[11]).to.equal(1.25);
    expect(c.state.yield).to.deep.equal({ high: 0, medium: 0.4375, low: 1 });
  });

  it('never yields nor sheds high priority, however long and hard the overload', () => {
    const c = controller();
    for (const state of run(c, reading({ cpu: 1, eventLoopDelayMs: 500, redisRttMs: 100, highAgeMs: 10_000 }, { low: 60_000, medium: 60_000 }), 100)) {
      expect(state.yield.high).to.equal(0);
      expect(state.shed.high).to.equal(0);
    }
    expect(c.state).to.deep.include({ level: 2 });
    expect(c.state.shed).to.deep.equal({ high: 0, medium: 1, low: 1 });
  });

  it('sheds a yielded priority at the door once its oldest unrouted entry is older than queueAgeMs', () => {
    const c = controller();
    run(c, OVERLOADED, 2);
    expect(c.state.yield.low).to.be.above(0);
    // Young backlog: the drain keeps up, nothing shed.
    c.update(reading({ cpu: 0.95 }, { low: 500 }), 1000);
    expect(c.state.shed.low).to.equal(0);
    // Old backlog: admissions outrun the yielded drain.
    c.update(reading({ cpu: 0.95 }, { low: QUEUE_AGE_MS }), 1250);
    expect(c.state.shed.low).to.equal(0.25);
    c.update(reading({ cpu: 0.95 }, { low: QUEUE_AGE_MS }), 1500);
    expect(c.state.shed.low).to.equal(0.4375);
    expect(c.state.shed.medium).to.equal(0);
  });

  it('holds the door while an old backlog gets younger (the drain already outruns admissions), and cuts again once it grows', () => {
    const c = controller();
    run(c, OVERLOADED, 2);
    c.update(reading({ cpu: 0.75 }, { low: 5000 }), 1000);
    expect(c.state.shed.low).to.equal(0.25);
    // Older than queueAgeMs, but younger at each tick: hold.
    for (const [i, age] of [4500, 4000, 3000].entries()) c.update(reading({ cpu: 0.75 }, { low: age }), 1250 + i * 250);
    expect(c.state.shed.low).to.equal(0.25);
    // Growing again: admissions outrun the drain once more.
    c.update(reading({ cpu: 0.75 }, { low: 3250 }), 2000);
    expect(c.state.shed.low).to.equal(0.4375);
  });

  it("does not shed an old backlog while the host is not overloaded: that is the backlog limit's job", () => {
    const c = controller();
    for (const state of run(c, reading({ cpu: 0.2 }, { low: 60_000, medium: 60_000 }), 10)) expect(state.shed).to.deep.equal({ high: 0, medium: 0, low: 0 });
  });

  it('sheds a fully yielded priority at the door while the host stays overloaded, even without a backlog', () => {
    const c = controller();
    const states = run(c, OVERLOADED, 14);
    const firstShed = states.findIndex((s) => s.shed.low > 0);
    expect(firstShed).to.be.above(0);
    expect(states[firstShed]!.yield.low, 'shedding starts once low is fully yielded').to.equal(1);
    expect(states[firstShed - 1]!.yield.low).to.be.below(1);
    expect(c.state.shed.low).to.be.above(0.5);
  });

  it('holds everything still between the release ratio and the threshold (no flapping)', () => {
    const c = controller();
    run(c, OVERLOADED, 3);
    const held = c.state;
    for (const state of run(c, HOLDING, 20, 1000)) expect(state).to.deep.include({ level: held.level, condition: 'hold' });
  });

  it('releases by itself: additively, medium first, then low, until nothing is shed or yielded', () => {
    const c = controller();
    run(c, reading({ cpu: 1 }, { low: 60_000, medium: 60_000 }), 40);
    expect(c.state.level).to.equal(2);
    const release = run(c, CLEAR, 200, 20_000);
    const firstLowRecovery = release.findIndex((s) => s.yield.low < 1);
    expect(release[firstLowRecovery - 1]!.yield.medium, 'medium recovers fully before low starts').to.equal(0);
    // Additive: 0.05 a tick, so a full recovery of one priority takes 20 ticks, not one.
    expect(release[0]!.level).to.equal(1.95);
    expect(release[19]!.level).to.equal(1);
    const done = release.findIndex((s) => s.level === 0 && s.shed.low === 0 && s.shed.medium === 0);
    expect(done).to.be.within(39, 60);
    expect(c.state).to.deep.include({ level: 0, condition: 'clear' });
  });

  it('cuts a share at most once per cooldown, since signals lag the cut they measure', () => {
    const c = controller({ cooldownMs: 500 });
    const levels = run(c, OVERLOADED, 5).map((s) => s.level);
    expect(levels).to.deep.equal([0.25, 0.25, 0.4375, 0.4375, 0.578125]);
  });

  it('settles instead of oscillating when the yield moves the signal into the band', () => {
    // A host whose CPU follows low's work share: 0.95 at full speed, 0.65 fully yielded.
    const c = controller({ cooldownMs: 500 });
    const states: OverloadState[] = [];
    for (let tick = 0; tick < 400; tick++) {
      const cpu = 0.65 + 0.3 * (1 - c.state.yield.low);
      states.push(c.update(reading({ cpu }), tick * 250));
    }
    const last = states.slice(-100);
    const moves = last.filter((s, i) => i > 0 && s.level !== last[i - 1]!.level).length;
    expect(moves, 'the level stops moving once inside the hysteresis band').to.equal(0);
    const cpu = 0.65 + 0.3 * (1 - c.state.yield.low);
    expect(cpu).to.be.within(0.8 * 0.85, 0.8);
    expect(c.state.shed.low, 'the drain kept up: nothing shed at the door').to.equal(0);
  });

  it('refuses nonsense options', () => {
    expect(() => new OverloadController({ thresholds: { ...THRESHOLDS, cpu: -1 }, releaseRatio: 0.85, queueAgeMs: 1 })).to.throw(RangeError);
    expect(() => new OverloadController({ thresholds: THRESHOLDS, releaseRatio: 1, queueAgeMs: 1 })).to.throw(RangeError);
    expect(() => new OverloadController({ thresholds: THRESHOLDS, releaseRatio: 0.8, queueAgeMs: 0 })).to.throw(RangeError);
    expect(() => new OverloadController({ thresholds: THRESHOLDS, releaseRatio: 0.8, queueAgeMs: 1, decrease: 1 })).to.throw(RangeError);
  });
});
