import { expect } from 'chai';
import { RecentNotifications } from './recent-notifications.js';

describe('recent notifications of a connection', () => {
  it('maps a cursor to its event id and forgets the oldest past its capacity', () => {
    const recent = new RecentNotifications(2);
    recent.remember('1-0', 'a');
    recent.remember('2-0', 'b');
    recent.remember('3-0', 'c');
    expect(recent.eventIdOf('1-0')).to.equal(undefined);
    expect(recent.eventIdOf('2-0')).to.equal('b');
    expect(recent.eventIdOf('3-0')).to.equal('c');
  });
});
