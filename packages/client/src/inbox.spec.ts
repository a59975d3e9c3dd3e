import { expect } from 'chai';
import type { Notification } from '@herald/contracts';
import { compareCursors } from './cursors.js';
import type { CursorStorage } from './cursor-storage.js';
import { MemoryCursorStorage } from './cursor-storage.js';
import type { HeraldClientError } from './errors.js';
import { Inbox } from './inbox.js';
import { RecentIds } from './recent-ids.js';

const notification = (id: string, cursor: string): Notification => ({
  id,
  cursor,
  type: 'plan.changed',
  accountId: 'acct',
  payload: {},
  createdAt: new Date(0).toISOString(),
  priority: 'high',
});

/** An async storage whose writes take a while and are counted. */
class SlowStorage implements CursorStorage {
  readonly writes: string[] = [];
  value: string | null = null;
  async get(): Promise<string | null> {
    return this.value;
  }
  async set(_key: string, value: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 10));
    this.writes.push(value);
    this.value = value;
  }
}

describe('Inbox', () => {
  const errors: HeraldClientError[] = [];
  const inbox = (storage: CursorStorage, dedupeCapacity = 10) => new Inbox({ storage, key: 'k', dedupeCapacity, onError: (error) => errors.push(error) });

  it('drops an event id seen lately and moves the cursor only forward', async () => {
    const box = inbox(new MemoryCursorStorage());
    expect(box.accept(notification('a', '10-0'))).to.equal(true);
    expect(box.accept(notification('a', '10-0'))).to.equal(false);
    expect(box.accept(notification('b', '9-5'))).to.equal(true);
    expect(box.cursor).to.equal('10-0');
    box.advance('100-0');
    expect(box.cursor).to.equal('100-0');
    box.resetTo('50-0'); // a reset may move it back
    expect(box.cursor).to.equal('50-0');
  });

  it('ignores a malformed stored cursor and starts from now', async () => {
    const storage = new MemoryCursorStorage();
    storage.set('k', 'garbage');
    const box = inbox(storage);
    await box.load();
    expect(box.cursor).to.equal(undefined);
  });

  it('coalesces saves to an async storage: one write in flight, the newest cursor last', async () => {
    const storage = new SlowStorage();
    const box = inbox(storage);
    for (let n = 1; n <= 5; n++) {
      box.accept(notification(`e${n}`, `${n}-0`));
      box.save();
    }
    await box.flush();
    expect(storage.writes.length).to.be.at.most(2);
    expect(storage.value).to.equal('5-0');
  });

  it('reports a storage that throws instead of failing', async () => {
    errors.length = 0;
    const box = inbox({
      get: () => {
        throw new Error('disk gone');
      },
      set: () => {
        throw new Error('disk gone');
      },
    });
    await box.load();
    box.accept(notification('a', '1-0'));
    box.save();
    await box.flush();
    expect(errors.map((error) => error.code)).to.deep.equal(['storage_error', 'storage_error']);
  });
});

describe('RecentIds', () => {
  it('forgets the oldest ids past its capacity', () => {
    const ids = new RecentIds(2);
    expect([ids.add('a'), ids.add('b'), ids.add('c')]).to.deep.equal([true, true, true]);
    expect(ids.size).to.equal(2);
    expect(ids.has('a')).to.equal(false);
    expect(ids.add('c')).to.equal(false);
  });
});

describe('compareCursors', () => {
  it('compares cursors as numbers, not as strings', () => {
    expect(compareCursors('9-0', '10-0')).to.equal(-1);
    expect(compareCursors('10-10', '10-9')).to.equal(1);
    expect(compareCursors('10-1', '10-1')).to.equal(0);
  });
});
