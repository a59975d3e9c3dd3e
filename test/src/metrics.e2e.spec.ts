import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { io } from 'socket.io-client';
import { createDashboardApp, createDashboardDeps } from '@herald/dashboard';
import { waitFor } from '@herald/testing';
import { useStack } from './stack.fixture.js';

const grafana = JSON.parse(readFileSync(new URL('../../ops/grafana/herald.json', import.meta.url), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

/** Metric family names in a Prometheus text exposition (histograms under their base name). */
function families(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
}

describe('metrics', function () {
  this.timeout(20_000);
  // Presence heartbeats (and the gateway's node announcement) every 500 ms.
  const stack = useStack({ HERALD_PRESENCE_TTL_MS: '1500' });

  it('every app serves herald_ metrics for what it does, and the Grafana dashboard uses only metrics that exist', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-m', platform: 'web', deviceId: 'web-1' });
    const socket = io(stack.gatewayUrl, { auth: { token }, transports: ['websocket'] });
    try {
      await new Promise((resolve) => socket.once('synced', resolve));
      const delivered = new Promise((resolve) => socket.once('notification', resolve));
      await stack.send({ type: 'plan.changed', accountId: 'acct-m' });
      await delivered;
      await fetch(`${stack.ingestUrl}/v1/events`, { method: 'POST', headers: stack.serviceHeaders, body: '{"type":"nope"}' });
      await fetch(`${stack.gatewayUrl}/v1/notifications`, { headers: { authorization: `Bearer ${token}` } });

      const scrape = async (url: string) => {
        const response = await fetch(`${url}/metrics`);
        expect(response.status).to.equal(200);
        expect(response.headers.get('content-type')).to.match(/^text\/plain/);
        return response.text();
      };
      const ingest = await scrape(stack.ingestUrl);
      const worker = await scrape(stack.workerUrl);
      const gateway = await scrape(stack.gatewayUrl);
      const dashboardDeps = createDashboardDeps(stack.config, stack.redis.url);
      const dashboardApp = createDashboardApp(dashboardDeps);
      const server = dashboardApp.http.listen(0, '127.0.0.1');
      let dashboard: string;
      try {
        await once(server, 'listening');
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        // The connected device counts once its gateway has announced itself (next heartbeat).
        dashboard = await waitFor(
          'the dashboard to count the device',
          async () => {
            const scraped = await scrape(url);
            return /^herald_devices_online\{app="dashboard"\} 1$/m.test(scraped) && scraped;
          },
          { intervalMs: 100 },
        );
      } finally {
        const closed = once(server, 'close');
        server.close();
        await dashboardApp.close();
        server.closeAllConnections();
        await closed;
        await dashboardDeps.close();
      }
      expect(dashboard).to.match(/^herald_devices_online\{app="dashboard"\} 1$/m);
      expect(dashboard).to.match(/^herald_consumer_lag\{priority="high",app="dashboard"\} 0$/m);

      expect(ingest).to.match(/^herald_events_accepted_total\{priority="high",app="ingest"\} 1$/m);
      expect(ingest).to.match(/^herald_events_rejected_total\{reason="invalid_request",app="ingest"\} 1$/m);
      expect(worker).to.match(/^herald_gate_outcomes_total\{priority="high",verdict="routed",app="worker"\} 1$/m);
      expect(worker).to.match(/^herald_deliveries_total\{platform="web",outcome="emitted",app="worker"\} 1$/m);
      expect(worker).to.match(/^herald_delivery_latency_seconds_count\{app="worker",priority="high",platform="web"\} 1$/m);
      expect(gateway).to.match(/^herald_gateway_connections\{app="gateway"\} 1$/m);
      expect(gateway).to.match(/^herald_gateway_pulls_total\{outcome="[a-z_]+",app="gateway"\} 1$/m);
      expect(gateway).to.match(/^herald_gateway_long_polls\{app="gateway"\} 0$/m);

      // Labelled counters have their series from the first scrape, at 0 (regression: none until the first increment).
      expect(ingest).to.match(/^herald_events_accepted_total\{priority="low",app="ingest"\} 0$/m);
      expect(ingest).to.match(/^herald_events_rejected_total\{reason="backlog_exceeded",app="ingest"\} 0$/m);
      expect(worker).to.match(/^herald_gate_outcomes_total\{priority="low",verdict="no_targets",app="worker"\} 0$/m);
      expect(worker).to.match(/^herald_deliveries_total\{platform="android",outcome="failed",app="worker"\} 0$/m);
      expect(gateway).to.match(/^herald_gateway_handshakes_refused_total\{reason="unauthorized",app="gateway"\} 0$/m);

      // HTTP request durations by route pattern (regression: ingest and the gateway had none).
      expect(ingest).to.match(/^herald_http_request_duration_seconds_count\{app="ingest",method="POST",route="\/v1\/events",status="202"\} 1$/m);
      expect(ingest).to.match(/^herald_http_request_duration_seconds_count\{app="ingest",method="POST",route="\/v1\/devices",status="201"\} 1$/m);
      expect(gateway).to.match(/^herald_http_request_duration_seconds_count\{app="gateway",method="GET",route="\/v1\/notifications",status="200"\} 1$/m);

      // No gauge named like a counter (regression: herald_nodejs_active_handles_total and two more).
      for (const text of [ingest, worker, gateway, dashboard]) {
        expect([...text.matchAll(/^# TYPE (\S+_total) gauge$/gm)].map((match) => match[1])).to.deep.equal([]);
        expect(text).to.match(/^herald_nodejs_active_handles\{/m);
      }

      const all = new Set([...families(ingest), ...families(worker), ...families(gateway), ...families(dashboard)]);
      for (const name of all) expect(name, name).to.match(/^herald_/);
      for (const panel of grafana.panels) {
        for (const { expr } of panel.targets) {
          for (const [name] of expr.matchAll(/herald_[a-z_]+/g)) {
            const family = name.replace(/_(bucket|sum|count)$/, '');
            expect(all.has(family), `${panel.title}: ${family}`).to.equal(true);
          }
        }
      }
    } finally {
      socket.disconnect();
    }
  });
});
