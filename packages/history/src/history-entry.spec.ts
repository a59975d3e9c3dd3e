import { expect } from 'chai';
import type { HistoryEntry } from './history-entry.js';
import { toNotification } from './history-entry.js';

const entry = (id: string, createdAt: number, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  id,
  type: 'plan.changed',
  priority: 'high',
  accountId: 'acct',
  createdAt,
  acceptedAt: createdAt + 5,
  payload: { plan: 'premium' },
  devices: ['tv-1'],
  ...extra,
});

describe('toNotification', () => {
  it("gives each notification its own entry's creation time, whatever the order they are made in", () => {
    const times = [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_000, 0];
    const made = times.map((ms, i) => toNotification(`${ms}-${i}`, entry(`e${i}`, ms)));
    expect(made.map((n) => n.createdAt)).to.deep.equal(times.map((ms) => new Date(ms).toISOString()));
  });

  it('carries the contract fields, the profile and collapse key only when the event has them, and never the devices', () => {
    expect(toNotification('5-0', entry('e1', 5))).to.deep.equal({
      id: 'e1',
      cursor: '5-0',
      type: 'plan.changed',
      accountId: 'acct',
      payload: { plan: 'premium' },
      createdAt: new Date(5).toISOString(),
      priority: 'high',
    });
    expect(toNotification('6-0', entry('e2', 6, { profileId: 'kids', collapseKey: 'title-9' }))).to.include({ profileId: 'kids', collapseKey: 'title-9' });
  });
});
