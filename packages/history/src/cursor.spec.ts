import { expect } from 'chai';
import { compareCursors } from './index.js';

describe('compareCursors', () => {
  it('orders by milliseconds, then by sequence, as integers (not as strings)', () => {
    expect(compareCursors('9-0', '10-0')).to.equal(-1);
    expect(compareCursors('1700000000000-10', '1700000000000-9')).to.equal(1);
    expect(compareCursors('1700000000000-3', '1700000000000-3')).to.equal(0);
  });

  it('stays exact past 2^53, where numbers would round', () => {
    expect(compareCursors('9007199254740993-0', '9007199254740992-0')).to.equal(1);
    expect(compareCursors('1-18446744073709551615', '1-18446744073709551614')).to.equal(1);
    expect(compareCursors('18446744073709551615-0', '1700000000000-0')).to.equal(1);
  });
});
