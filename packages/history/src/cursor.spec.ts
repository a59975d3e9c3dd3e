import { expect } from 'chai';
import { compareCursors, cursorBefore } from './index.js';

describe('cursorBefore', () => {
  it('steps back one sequence number within a millisecond', () => {
    expect(cursorBefore('1700000000000-5')).to.equal('1700000000000-4');
  });

  it('steps back to the last sequence number of the millisecond before', () => {
    expect(cursorBefore('1700000000000-0')).to.equal('1699999999999-18446744073709551615');
    expect(compareCursors(cursorBefore('1700000000000-0'), '1699999999999-99999')).to.equal(1);
  });

  it('stops at the first cursor there is', () => {
    expect(cursorBefore('0-0')).to.equal('0-0');
  });
});
