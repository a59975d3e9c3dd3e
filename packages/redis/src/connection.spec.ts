import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createRedis } from './index.js';

describe('redis connections', () => {
  it("log their errors with the connection's name when given a logger, and keep reconnecting", async () => {
    const warnings: { connection: string | undefined; message: string; err: Error }[] = [];
    const client = createRedis({
      // A socket file that does not exist: every connection attempt fails at once.
      url: `unix://${join(tmpdir(), `herald-no-redis-${randomUUID()}.sock`)}`,
      name: 'herald-test-unreachable',
      logger: { warn: ({ err, connection }, message) => warnings.push({ err, connection, message }) },
    });
    try {
      const deadline = Date.now() + 5000;
      while (warnings.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(warnings.length, 'a warning per failed attempt').to.be.at.least(2);
      expect(warnings[0]).to.include({ connection: 'herald-test-unreachable', message: 'redis connection error' });
      expect(warnings[0]!.err.message).to.match(/ENOENT/);
    } finally {
      client.disconnect();
    }
  });
});
