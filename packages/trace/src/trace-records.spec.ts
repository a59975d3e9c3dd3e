import { expect } from 'chai';
import type { TapRecord } from '@herald/contracts';
import { RoutingRecordSchema, encodeLiveSentSegment, encodeRoutingRecord, parseLiveSent } from './trace-records.js';

const base: TapRecord = {
  id: 'e1',
  type: 'plan.changed',
  accountId: 'acct "quoted" \\ é',
  priority: 'high',
  createdAt: 1_000,
  acceptedAt: 1_010,
  routedAt: 1_020,
  verdict: 'routed',
  cursor: '1020-3',
  targeted: ['web-1', 'ios-1'],
  online: ['web-1'],
};

/** The JSON as the reader takes it: valid, and exactly these fields. */
function decoded(json: string) {
  return RoutingRecordSchema.strict().parse(JSON.parse(json));
}

describe('routing records', () => {
  it('encode a routed event as its cursor, its batch and the devices its jobs were to reach, the rest being in its history entry', () => {
    const json = encodeRoutingRecord(base, { batch: '1-0.2-0.2', devices: { web: ['web-1'], ios: ['ios-1'] }, live: { web: 7 } });
    expect(decoded(json)).to.deep.equal({
      v: 'routed',
      at: 1_020,
      ac: 1_010,
      a: base.accountId,
      k: '1020-3',
      b: '1-0.2-0.2',
      pd: { web: ['web-1'], ios: ['ios-1'] },
      lp: { web: 7 },
    });
  });

  it('read what gateways appended to a live message field, skipping what is malformed', () => {
    const value =
      encodeLiveSentSegment(1_700, [
        [0, 0],
        [3, 1],
      ]) + encodeLiveSentSegment(1_800, [[5, 0]]);
    expect(value).to.equal('1700:0,3.1;1800:5;');
    expect(parseLiveSent(value)).to.deep.equal([
      { at: 1_700, push: 0, device: 0 },
      { at: 1_700, push: 3, device: 1 },
      { at: 1_800, push: 5, device: 0 },
    ]);
    expect(parseLiveSent(`x:1;:2;1900:a,7,-1,2.b;${value}`)).to.deep.equal([{ at: 1_900, push: 7, device: 0 }, ...parseLiveSent(value)]);
    expect(parseLiveSent('')).to.deep.equal([]);
  });

  it('encode a routed event that went into no job without a batch', () => {
    expect(decoded(encodeRoutingRecord(base))).to.deep.equal({ v: 'routed', at: 1_020, ac: 1_010, a: base.accountId, k: '1020-3' });
  });

  it('encode a dropped event with its type, profile, creation time and targets, which no history entry keeps', () => {
    const { cursor: _, ...dropped } = base;
    expect(decoded(encodeRoutingRecord({ ...dropped, verdict: 'no_targets', targeted: [], profileId: 'p "1"' }))).to.deep.equal({
      v: 'no_targets',
      at: 1_020,
      ac: 1_010,
      a: base.accountId,
      t: 'plan.changed',
      p: 'p "1"',
      c: 1_000,
    });
    expect(decoded(encodeRoutingRecord({ ...dropped, verdict: 'stale' }))).to.deep.equal({
      v: 'stale',
      at: 1_020,
      ac: 1_010,
      a: base.accountId,
      t: 'plan.changed',
      c: 1_000,
      d: ['web-1', 'ios-1'],
    });
  });

  it('encodes why an event had no targets, when the router says', () => {
    const { cursor: _, ...dropped } = base;
    expect(decoded(encodeRoutingRecord({ ...dropped, verdict: 'no_targets', noTargets: 'no_devices', targeted: [] }))).to.deep.include({
      v: 'no_targets',
      r: 'no_devices',
    });
  });
});
