import { Counter, Gauge, initCounterSeries } from '@herald/runtime';
import type { Registry } from '@herald/runtime';

export interface GatewayMetrics {
  connections: Gauge;
  devices: Gauge;
  longPolls: Gauge;
  handshakesRefused: Counter<'reason'>;
  replayed: Counter;
  pushed: Counter;
  dropped: Counter<'reason'>;
  gapFills: Counter<'reason'>;
  acks: Counter<'via'>;
  rateLimited: Counter;
  disconnects: Counter<'reason'>;
  pulls: Counter<'outcome'>;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  const metrics: GatewayMetrics = {
    connections: new Gauge({ name: 'herald_gateway_connections', help: 'Socket.IO connections open on this node', registers }),
    devices: new Gauge({ name: 'herald_gateway_devices', help: 'Distinct devices connected to this node', registers }),
    longPolls: new Gauge({ name: 'herald_gateway_long_polls', help: 'GET /v1/notifications requests waiting for news', registers }),
    handshakesRefused: new Counter({
      name: 'herald_gateway_handshakes_refused_total',
      help: 'Socket.IO handshakes refused, by error code',
      labelNames: ['reason'],
      registers,
    }),
    replayed: new Counter({
      name: 'herald_gateway_notifications_replayed_total',
      help: 'Notifications sent from history: replayed on (re)connect, or read to fill a gap',
      registers,
    }),
    pushed: new Counter({ name: 'herald_gateway_notifications_pushed_total', help: 'Live pushes sent to sockets as they came', registers }),
    dropped: new Counter({
      name: 'herald_gateway_notifications_dropped_total',
      help: 'Live pushes not sent: delivered already (duplicate), or live messages that are not LiveMessage JSON (invalid)',
      labelNames: ['reason'],
      registers,
    }),
    gapFills: new Counter({
      name: 'herald_gateway_gap_fills_total',
      help: 'History reads by live connections: a push whose predecessor was not delivered yet (gap), or pushes this node could no longer read from a live stream (lost)',
      labelNames: ['reason'],
      registers,
    }),
    acks: new Counter({
      name: 'herald_gateway_acks_total',
      help: 'Acknowledgements received, by the `ack` event or the emit callback',
      labelNames: ['via'],
      registers,
    }),
    rateLimited: new Counter({ name: 'herald_gateway_rate_limited_total', help: 'Client messages refused by the per-connection rate limit', registers }),
    disconnects: new Counter({
      name: 'herald_gateway_server_disconnects_total',
      help: 'Connections the gateway closed, by reason',
      labelNames: ['reason'],
      registers,
    }),
    pulls: new Counter({
      name: 'herald_gateway_pulls_total',
      help: 'GET /v1/notifications answered, by outcome (notifications, empty, reset)',
      labelNames: ['outcome'],
      registers,
    }),
  };
  // The label values known today, at 0 from the first scrape; others appear when first counted.
  initCounterSeries(metrics.handshakesRefused, { reason: ['unauthorized', 'forbidden', 'invalid_request', 'unavailable', 'internal'] });
  initCounterSeries(metrics.dropped, { reason: ['duplicate', 'invalid'] });
  initCounterSeries(metrics.gapFills, { reason: ['gap', 'lost'] });
  initCounterSeries(metrics.acks, { via: ['event', 'callback'] });
  initCounterSeries(metrics.disconnects, { reason: ['max_lifetime', 'shutting_down', 'replay_failed', 'history_trimmed', 'unauthorized', 'internal'] });
  initCounterSeries(metrics.pulls, { outcome: ['notifications', 'empty', 'reset'] });
  return metrics;
}
