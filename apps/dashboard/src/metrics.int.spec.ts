import { expect } from 'chai';
import { acceptedEvent, useDashboard } from './dashboard.fixture.js';

/** The value of one sample line of the Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('dashboard metrics (/metrics)', () => {
  const dashboard = useDashboard();

  it('carries the overview gauges, read from Redis at each scrape', async () => {
    const running = await dashboard.start();
    const scrape = async () => (await running.request('/metrics', { authorization: null })).text();
    const empty = await scrape();
    expect(sample(empty, 'herald_dashboard_overview_up')).to.equal(1);
    expect(sample(empty, 'herald_stream_length', { priority: 'high' })).to.equal(0);
    expect(sample(empty, 'herald_devices_online')).to.equal(0);
    expect(empty).to.contain('herald_process_cpu_user_seconds_total');

    const streams = dashboard.streams();
    await streams.append([acceptedEvent('h1', 'acct-a')]);
    await streams.append([acceptedEvent('h2', 'acct-a')]);
    const stream = running.keys.stream('high', streams.partitionOf('high', 'acct-a'));
    await dashboard.redis.client.xgroup('CREATE', stream, running.keys.routerGroup, '0');
    await dashboard.redis.client.xreadgroup('GROUP', running.keys.routerGroup, 'w', 'COUNT', 1, 'STREAMS', stream, '>');
    await dashboard.queue('web', 'medium').add('deliver', { items: [] });
    const now = await dashboard.redisNow();
    await dashboard.redis.client.hset(running.keys.gatewayNodes, 'node-a', JSON.stringify({ connections: 3, devices: 2, at: now }));

    const text = await scrape();
    expect(sample(text, 'herald_stream_length', { priority: 'high' })).to.equal(2);
    expect(sample(text, 'herald_consumer_lag', { priority: 'high' })).to.equal(1);
    expect(sample(text, 'herald_pending_entries', { priority: 'high' })).to.equal(1);
    expect(sample(text, 'herald_oldest_pending_age_seconds', { priority: 'high' })).to.be.within(0, 5);
    expect(sample(text, 'herald_oldest_pending_age_seconds', { priority: 'low' }), 'nothing pending: no sample').to.equal(undefined);
    expect(sample(text, 'herald_stream_backlog_events', { priority: 'high' })).to.equal(2);
    expect(sample(text, 'herald_dead_letter_entries', { priority: 'medium' })).to.equal(0);
    expect(sample(text, 'herald_delivery_queue_depth', { platform: 'web', priority: 'medium' })).to.equal(1);
    expect(sample(text, 'herald_delivery_queue_failed_jobs', { platform: 'web', priority: 'medium' })).to.equal(0);
    expect(sample(text, 'herald_devices_online')).to.equal(2);
    expect(sample(text, 'herald_gateway_nodes_live')).to.equal(1);
    expect(text).to.contain('app="dashboard"');
  });
});
