import { Counter, Gauge, initCounterSeries } from '@herald/observability';
import type { Registry } from '@herald/observability';

export interface GatewayMetrics {
  connections: Gauge;
  devices: Gauge;
  longPolls: Gauge;
  handshakesRefused: Counter<'reason'>;
  replayed: Counter;
  pushed: Counter;
  dropped: Counter<'reason'>;
  resyncs: Counter<'reason'>;
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
    replayed: new Counter({ name: 'herald_gateway_notifications_replayed_total', help: 'Notifications replayed from history on (re)connect, or in a resync after live pushes were lost', registers }),
    pushed: new Counter({ name: 'herald_gateway_notifications_pushed_total', help: 'Live notifications pushed to sockets', registers }),
    dropped: new Counter({
      name: 'herald_gateway_notifications_dropped_total',
      help: 'Live notifications not sent: already replayed or sent (duplicate), malformed (invalid), or live messages dropped from a full lane (overflow)',
      labelNames: ['reason'],
      registers,
    }),
    resyncs: new Counter({
      name: 'herald_gateway_resyncs_total',
      help: 'Connections that replayed history while live because pushes for them were lost: dropped from a full lane (overflow), or published while the live subscription was down (resubscribed)',
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
  initCounterSeries(metrics.dropped, { reason: ['duplicate', 'invalid', 'overflow'] });
  initCounterSeries(metrics.resyncs, { reason: ['overflow', 'resubscribed'] });
  initCounterSeries(metrics.acks, { via: ['event', 'callback'] });
  initCounterSeries(metrics.disconnects, { reason: ['max_lifetime', 'shutting_down', 'replay_failed', 'unauthorized'] });
  initCounterSeries(metrics.pulls, { outcome: ['notifications', 'empty', 'reset'] });
  return metrics;
}
