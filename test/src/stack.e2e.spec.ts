import { expect } from 'chai';
import { io } from 'socket.io-client';
import type { Notification } from '@herald/contracts';
import { useStack } from './stack.fixture.js';

describe('the in-process stack (test fixture)', function () {
  this.timeout(20_000);
  const stack = useStack();

  it('carries an event from ingest through the worker to a connected device', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-stack', platform: 'web', deviceId: 'web-1' });
    const socket = io(stack.gatewayUrl, { auth: { token }, transports: ['websocket'] });
    try {
      const received = new Promise<Notification>((resolve) => socket.on('notification', resolve));
      await new Promise((resolve) => socket.once('synced', resolve));
      const { id } = await stack.send({ type: 'plan.changed', accountId: 'acct-stack', payload: { plan: 'premium' } });
      const notification = await received;
      expect(notification.id).to.equal(id);
      expect(notification.payload).to.deep.equal({ plan: 'premium' });
    } finally {
      socket.disconnect();
    }
  });
});
