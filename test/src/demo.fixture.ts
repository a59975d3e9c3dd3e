import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDemoApp } from '@herald/demo';
import type { DemoOptionsInput } from '@herald/demo';
import { createLogger } from '@herald/runtime';
import type { Stack } from './stack.fixture.js';

export interface Demo {
  /** The demo app's base URL (its page is at `/`). */
  url: string;
}

/**
 * The demo app (`apps/demo`) on a free port for each test, pointed at the stack's ingest and
 * gateway with the stack's service key; `options` may point it elsewhere (an ingest that is
 * down). Call after `useStack()`, whose apps it needs running. Read the fields inside tests.
 */
export function useDemo(stack: Stack, options: Partial<DemoOptionsInput> = {}): Demo {
  const demo = {} as Demo;
  let server: Server | undefined;
  beforeEach(async () => {
    const app = createDemoApp(
      { logger: createLogger({ app: 'demo', level: 'silent' }) },
      { ingestUrl: stack.ingestUrl, gatewayUrl: stack.gatewayUrl, serviceKey: stack.serviceKey, ...options },
    );
    const listening = createServer(app).listen(0, '127.0.0.1');
    server = listening;
    await new Promise((resolve) => listening.once('listening', resolve));
    demo.url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    const closing = server;
    server = undefined;
    if (closing === undefined) return;
    await new Promise((resolve) => {
      closing.close(resolve);
      closing.closeAllConnections();
    });
  });
  return demo;
}
