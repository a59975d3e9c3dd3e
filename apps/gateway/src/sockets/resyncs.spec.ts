import { expect } from 'chai';
import { Resyncs } from './resyncs.js';

/** A resync that finishes when the test says so. */
function controlled() {
  const started: { socketId: string; after: string; finish: () => void }[] = [];
  const resync = (socketId: string, after: string) =>
    new Promise<void>((resolve) => {
      started.push({ socketId, after, finish: resolve });
    });
  return { started, resync };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Resyncs', () => {
  it('runs at most `concurrency` at once, and the next as one finishes', async () => {
    const { started, resync } = controlled();
    const resyncs = new Resyncs(resync, 2);
    for (const socketId of ['a', 'b', 'c']) resyncs.request(socketId, '5-0');
    expect(started.map((s) => s.socketId)).to.deep.equal(['a', 'b']);
    started[0]!.finish();
    await settle();
    expect(started.map((s) => s.socketId)).to.deep.equal(['a', 'b', 'c']);
  });

  it('merges the requests for a waiting connection into one, from the earliest cursor', async () => {
    const { started, resync } = controlled();
    const resyncs = new Resyncs(resync, 1);
    expect(resyncs.request('busy', '1-0')).to.equal(true);
    expect(resyncs.request('a', '7-3')).to.equal(true);
    expect(resyncs.request('a', '7-1')).to.equal(false);
    expect(resyncs.request('a', '9-0')).to.equal(false);
    started[0]!.finish();
    await settle();
    expect(started.slice(1).map(({ socketId, after }) => ({ socketId, after }))).to.deep.equal([{ socketId: 'a', after: '7-1' }]);
  });

  it('takes a new request for a connection whose resync has started: it may have read past what was lost', async () => {
    const { started, resync } = controlled();
    const resyncs = new Resyncs(resync, 2);
    resyncs.request('a', '5-0');
    expect(resyncs.request('a', '6-0')).to.equal(true);
    expect(started.map(({ socketId, after }) => ({ socketId, after }))).to.deep.equal([{ socketId: 'a', after: '5-0' }, { socketId: 'a', after: '6-0' }]);
  });
});
