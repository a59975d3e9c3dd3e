import { expect } from 'chai';
import { Resyncs } from './resyncs.js';

/** A resync that finishes when the test says so. */
function controlled() {
  const started: { socketId: string; finish: () => void }[] = [];
  const resync = (socketId: string) =>
    new Promise<void>((resolve) => {
      started.push({ socketId, finish: resolve });
    });
  return { started, resync };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Resyncs', () => {
  it('runs at most `concurrency` at once, and the next as one finishes', async () => {
    const { started, resync } = controlled();
    const resyncs = new Resyncs(resync, 2);
    for (const socketId of ['a', 'b', 'c']) resyncs.request(socketId);
    expect(started.map((s) => s.socketId)).to.deep.equal(['a', 'b']);
    started[0]!.finish();
    await settle();
    expect(started.map((s) => s.socketId)).to.deep.equal(['a', 'b', 'c']);
  });

  it('merges the requests for a waiting connection into one', async () => {
    const { started, resync } = controlled();
    const resyncs = new Resyncs(resync, 1);
    expect(resyncs.request('busy')).to.equal(true);
    expect(resyncs.request('a')).to.equal(true);
    expect(resyncs.request('a')).to.equal(false);
    started[0]!.finish();
    await settle();
    expect(started.slice(1).map(({ socketId }) => socketId)).to.deep.equal(['a']);
  });

  it('takes a new request for a connection whose resync has started: it may have read before what was lost', async () => {
    const { started, resync } = controlled();
    const resyncs = new Resyncs(resync, 2);
    resyncs.request('a');
    expect(resyncs.request('a')).to.equal(true);
    expect(started.map(({ socketId }) => socketId)).to.deep.equal(['a', 'a']);
  });
});
