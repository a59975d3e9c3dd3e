import { expect } from 'chai';
import { Slots } from './slots.js';

/** A task that runs until released; records how many run at once. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { done, release };
}

describe('Slots', () => {
  it('runs at most `size` tasks at once, in turn', async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const gates = Array.from({ length: 5 }, gate);
    const runs = gates.map((g) =>
      slots.run(async () => {
        most = Math.max(most, ++running);
        await g.done;
        running--;
      }),
    );
    for (const g of gates) {
      await new Promise((resolve) => setImmediate(resolve));
      g.release();
    }
    await Promise.all(runs);
    expect(most).to.equal(2);
  });

  it('follows a limit that shrinks and grows back (a yielding priority), never below 1 nor above size', async () => {
    let limit = 0;
    const slots = new Slots(3, () => limit);
    let running = 0;
    const seen: number[] = [];
    const gates = Array.from({ length: 6 }, gate);
    const runs = gates.map((g) =>
      slots.run(async () => {
        seen.push(++running);
        await g.done;
        running--;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(running, 'a limit of 0 still lets one run').to.equal(1);
    limit = 10;
    gates[0]!.release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(running, 'the limit rose: the freed slot and the new ones are handed on, up to size').to.equal(3);
    for (const g of gates) g.release();
    await Promise.all(runs);
    expect(Math.max(...seen)).to.equal(3);
  });
});
