import { expect } from 'chai';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('resolves with the first value that is not false', async () => {
    let tries = 0;
    const value = await waitFor('the third try', () => (++tries === 3 ? 'done' : false), { intervalMs: 1 });
    expect(value).to.equal('done');
    expect(tries).to.equal(3);
  });

  it('passes once an assertion stops throwing', async () => {
    let tries = 0;
    await waitFor('two tries', () => expect(++tries).to.equal(2), { intervalMs: 1 });
    expect(tries).to.equal(2);
  });

  it('names what it waited for and the last assertion that failed', async () => {
    const error = await waitFor('the answer', () => expect(41).to.equal(42), { timeoutMs: 30, intervalMs: 5 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.equal('timed out after 30 ms waiting for the answer (last error: expected 41 to equal 42)');
    expect((error as Error).cause).to.be.instanceOf(Error);
  });

  it('says so when a predicate never held', async () => {
    const error = await waitFor('never', async () => false, { timeoutMs: 0 }).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('timed out after 0 ms waiting for never (the check still returned false)');
  });
});
