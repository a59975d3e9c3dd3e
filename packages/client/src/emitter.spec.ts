import { expect } from 'chai';
import { TypedEmitter } from './emitter.js';

interface Events {
  ping: (n: number) => void;
}

class Pinger extends TypedEmitter<Events> {
  ping(n: number): void {
    this.emit('ping', n);
  }
}

describe('TypedEmitter', () => {
  it('calls listeners in order, once-listeners once, and removes them on demand', () => {
    const pinger = new Pinger();
    const seen: string[] = [];
    const off = pinger.on('ping', (n) => seen.push(`on ${n}`));
    pinger.once('ping', (n) => seen.push(`once ${n}`));
    pinger.ping(1);
    pinger.ping(2);
    off();
    pinger.ping(3);
    expect(seen).to.deep.equal(['on 1', 'once 1', 'on 2']);
    expect(pinger.listenerCount('ping')).to.equal(0);
  });

  it('keeps calling the other listeners when one throws, and rethrows it on its own', async () => {
    const pinger = new Pinger();
    const seen: number[] = [];
    pinger.on('ping', () => {
      throw new Error('listener bug');
    });
    pinger.on('ping', (n) => seen.push(n));
    const rethrown = new Promise<unknown>((resolve) => {
      const original = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.once('uncaughtException', (error) => {
        for (const listener of original) process.on('uncaughtException', listener);
        resolve(error);
      });
    });
    pinger.ping(7);
    expect(seen).to.deep.equal([7]);
    expect(((await rethrown) as Error).message).to.equal('listener bug');
  });
});
