import { expect } from 'chai';
import { z } from 'zod';
import { ConfigError, loadConfig } from '@herald/config';
import { PLATFORMS, PRIORITIES } from '@herald/contracts';
import { waitFor } from '@herald/testing';
import { useDashboard } from './dashboard.fixture.js';

/** The part of bull-board's `GET /api/queues` answer these tests read. */
const BoardQueuesSchema = z.object({
  queues: z.array(z.object({ name: z.string(), readOnlyMode: z.boolean(), counts: z.record(z.string(), z.number()) })),
});

describe('dashboard queue board (/admin/queues)', () => {
  const dashboard = useDashboard();

  it('serves the BullMQ board page', async () => {
    const { request } = await dashboard.start();
    const res = await request('/admin/queues');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    const html = await res.text();
    expect(html).to.contain('Herald queues');
    expect(html).to.match(/<base href="\/admin\/queues\/?"/);
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
    expect(script, 'the board script').to.be.a('string');
    const asset = await request(`/admin/queues/${script}`);
    expect(asset.status).to.equal(200);
    expect(asset.headers.get('content-type')).to.match(/javascript/);
  });

  it('loads nothing from the internet: no web fonts (regression: offline, the board showed only a spinner)', async () => {
    const { request } = await dashboard.start();
    const html = await (await request('/admin/queues')).text();
    expect(html).not.to.contain('fonts.googleapis.com');
    expect(html.match(/<(?:link|script)\b[^>]*(?:href|src)="https?:\/\/[^"]*"/g)).to.equal(null);
    expect(html).to.match(/<link href="static\/css\/main\.[^"]+\.css" rel="stylesheet">/);
  });

  it('lists the 12 delivery queues in its API, read-only by default, with their job counts', async () => {
    const { request } = await dashboard.start();
    await dashboard.queue('tv', 'low').add('deliver', { items: [] });
    const res = await request('/admin/queues/api/queues');
    expect(res.status).to.equal(200);
    const { queues } = BoardQueuesSchema.parse(await res.json());
    const expected = PRIORITIES.flatMap((priority) => PLATFORMS.map((platform) => `deliver-${platform}-${priority}`));
    expect(queues.map((q) => q.name).sort()).to.deep.equal([...expected].sort());
    expect(queues.every((q) => q.readOnlyMode)).to.equal(true);
    expect(queues.find((q) => q.name === 'deliver-tv-low')?.counts['waiting']).to.equal(1);
  });

  it('refuses a retry in read-only mode with 403 forbidden, and the job stays failed', async () => {
    const { request } = await dashboard.start();
    const queue = dashboard.queue('ios', 'high');
    const job = await queue.add('deliver', { signals: [], fail: true });
    await dashboard.runJobs('ios', 'high', 1);
    for (const path of [`/admin/queues/api/queues/deliver-ios-high/${job.id}/retry`, '/admin/queues/api/queues/deliver-ios-high/retry/failed']) {
      const res = await request(path, { method: 'PUT' });
      expect(res.status, path).to.equal(403);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).to.equal('forbidden');
      expect(body.error.message).to.contain('HERALD_DASHBOARD_READ_ONLY=false');
    }
    for (const [method, path] of [
      ['PUT', '/admin/queues/api/queues/deliver-ios-high/clean/failed'],
      ['PUT', '/admin/queues/api/queues/deliver-ios-high/promote'],
      ['PUT', '/admin/queues/api/queues/deliver-ios-high/pause'],
      ['POST', '/admin/queues/api/queues/deliver-ios-high/add'],
      ['DELETE', '/admin/queues/api/queues/deliver-ios-high'],
    ] as const) {
      expect((await request(path, { method })).status, `${method} ${path}`).to.equal(403);
    }
    expect(await queue.getJobState(job.id!)).to.equal('failed');
    const counts = await queue.getJobCounts('failed', 'waiting');
    expect([counts['failed'], counts['waiting']]).to.deep.equal([1, 0]);
    expect(await queue.isPaused()).to.equal(false);
  });

  it('retries a failed job when HERALD_DASHBOARD_READ_ONLY=false', async () => {
    const { request } = await dashboard.start({ HERALD_DASHBOARD_READ_ONLY: 'false' });
    const queue = dashboard.queue('android', 'medium');
    const job = await queue.add('deliver', { signals: [], fail: true });
    await dashboard.runJobs('android', 'medium', 1);
    const board = BoardQueuesSchema.parse(await (await request('/admin/queues/api/queues')).json());
    expect(board.queues.every((q) => !q.readOnlyMode)).to.equal(true);

    const res = await request(`/admin/queues/api/queues/deliver-android-medium/${job.id}/retry`, { method: 'PUT' });
    expect(res.status).to.equal(204);
    await waitFor('the job to wait again', async () => (await queue.getJobState(job.id!)) === 'waiting', { timeoutMs: 2000 });
  });

  it('reads HERALD_DASHBOARD_READ_ONLY as true by default, false only when told, and refuses anything else', () => {
    expect(loadConfig({}, 'dashboard').dashboard.readOnly).to.equal(true);
    expect(loadConfig({ HERALD_DASHBOARD_READ_ONLY: 'true' }, 'dashboard').dashboard.readOnly).to.equal(true);
    expect(loadConfig({ HERALD_DASHBOARD_READ_ONLY: 'false' }, 'dashboard').dashboard.readOnly).to.equal(false);
    expect(() => loadConfig({ HERALD_DASHBOARD_READ_ONLY: 'no' }, 'dashboard')).to.throw(ConfigError, /HERALD_DASHBOARD_READ_ONLY: must be true or false/);
  });
});
