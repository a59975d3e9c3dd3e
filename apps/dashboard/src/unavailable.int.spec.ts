import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { useDashboard } from './dashboard.fixture.js';

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('dashboard without Redis', () => {
  const dashboard = useDashboard();

  it('answers the overview with 503 unavailable within a second or two, and /metrics still answers with the overview marked down', async () => {
    const running = await dashboard.start({}, {}, `redis://127.0.0.1:${await closedPort()}`);
    const startedAt = Date.now();
    const res = await running.request('/admin/api/overview');
    expect(res.status).to.equal(503);
    expect(Date.now() - startedAt).to.be.below(2000);
    expect(await res.json()).to.deep.equal({ error: { code: 'unavailable', message: 'The overview could not be read from Redis.' } });
    expect((await running.request('/readyz', { authorization: null })).status).to.equal(503);
    const metrics = await running.request('/metrics', { authorization: null });
    expect(metrics.status).to.equal(200);
    const text = await metrics.text();
    expect(text).to.match(/^herald_dashboard_overview_up\{[^}]*\} 0$/m);
    expect(text).not.to.match(/^herald_stream_length\{/m);
  });
});
