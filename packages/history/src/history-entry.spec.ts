import { expect } from 'chai';
import type { HistoryEntry } from './history-entry.js';
import { toNotification } from './history-entry.js';

const entry = (id: string, createdAt: number): HistoryEntry => ({
  id,
  type: 'plan.changed',
  priority: 'high',
  accountId: 'acct',
  createdAt,
  acceptedAt: createdAt + 5,
  payload: { plan: 'premium' },
  devices: ['tv-1'],
});

describe('toNotification', () => {
  it("gives each notification its own entry's creation time, whatever the order they are made in", () => {
    const times = [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_000, 0];
    const made = times.map((ms, i) => toNotification(`${ms}-${i}`, entry(`e${i}`, ms)));
    expect(made.map((n) => n.createdAt)).to.deep.equal(times.map((ms) => new Date(ms).toISOString()));
  });
});
