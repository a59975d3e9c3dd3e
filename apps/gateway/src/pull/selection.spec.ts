import { expect } from 'chai';
import type { HistoryRecord } from '@herald/history';
import { PullQuerySchema, collapse, selectNotifications } from './selection.js';

function record(seq: number, collapseKey?: string): HistoryRecord {
  return {
    cursor: `100-${seq}`,
    entry: {
      id: `e${seq}`,
      type: 'viewing.progress',
      priority: 'medium',
      accountId: 'acct',
      createdAt: 1_000,
      acceptedAt: 1_000,
      payload: {},
      devices: ['tv'],
      ...(collapseKey === undefined ? {} : { collapseKey }),
    },
  };
}

describe('pull selection', () => {
  it('keeps only the newest notification of each collapse key, in history order', () => {
    const kept = collapse([record(1, 'a'), record(2), record(3, 'b'), record(4, 'a'), record(5)]);
    expect(kept.map((r) => r.cursor)).to.deep.equal(['100-2', '100-3', '100-4', '100-5']);
  });

  it('answers the last cursor read when everything fits', () => {
    const result = selectNotifications([record(1), record(2)], 10, '100-9');
    expect(result.notifications.map((n) => n.id)).to.deep.equal(['e1', 'e2']);
    expect(result.cursor).to.equal('100-9');
  });

  it('answers the last cursor returned when the limit cuts the answer, after collapsing', () => {
    const result = selectNotifications([record(1, 'a'), record(2), record(3), record(4, 'a')], 2, '100-9');
    expect(result.notifications.map((n) => n.id)).to.deep.equal(['e2', 'e3']);
    expect(result.cursor).to.equal('100-3');
  });

  it('answers a null cursor for an empty history', () => {
    expect(selectNotifications([], 10, undefined)).to.deep.equal({ notifications: [], cursor: null, reset: false });
  });

  it('reads limit and waitMs from the query string with defaults, and refuses out-of-range values', () => {
    expect(PullQuerySchema.parse({})).to.deep.equal({ limit: 100, waitMs: 0 });
    expect(PullQuerySchema.parse({ limit: '5', waitMs: '250', after: '1-0' })).to.deep.equal({ limit: 5, waitMs: 250, after: '1-0' });
    for (const bad of [{ limit: '0' }, { limit: '501' }, { waitMs: '30001' }, { after: 'x' }, { limit: 'ten' }, { other: '1' }]) {
      expect(PullQuerySchema.safeParse(bad).success, JSON.stringify(bad)).to.equal(false);
    }
  });

  it('reads an empty after= as no cursor (regression: it was refused as invalid_request)', () => {
    expect(PullQuerySchema.parse({ after: '' })).to.deep.equal({ after: undefined, limit: 100, waitMs: 0 });
  });
});
