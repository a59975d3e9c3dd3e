import { Gauge } from '@herald/runtime';
import type { Logger, Registry } from '@herald/runtime';
import type { Overview } from './overview-schema.js';
import type { OverviewSource } from './overview-source.js';

/**
 * The overview as Prometheus gauges, read from Redis when scraped (prom-client's `collect`),
 * so the figures are as fresh as the scrape and cost nothing between scrapes. Rates are left to
 * Prometheus (`rate()` over the apps' own counters). When Redis cannot be read the gauges are
 * empty and `herald_dashboard_overview_up` is 0, while the process metrics still answer.
 */
export function registerOverviewMetrics(registry: Registry, source: OverviewSource, logger: Logger): void {
  const registers = [registry];
  let scrape: Promise<Overview | undefined> | undefined;
  /** One overview per scrape, shared by every gauge's collect. */
  const overview = (): Promise<Overview | undefined> => {
    scrape ??= source
      .current()
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'metrics: reading the overview failed');
        return undefined;
      })
      .finally(() => queueMicrotask(() => (scrape = undefined)));
    return scrape;
  };

  const byPriority = (name: string, help: string, value: (p: Overview['priorities'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['priority'],
      registers,
      async collect() {
        this.reset();
        for (const p of (await overview())?.priorities ?? []) {
          const v = value(p);
          if (v !== null) this.set({ priority: p.priority }, v);
        }
      },
    });
  const byQueue = (name: string, help: string, value: (q: Overview['queues'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['platform', 'priority'],
      registers,
      async collect() {
        this.reset();
        for (const q of (await overview())?.queues ?? []) this.set({ platform: q.platform, priority: q.priority }, value(q));
      },
    });

  new Gauge({
    name: 'herald_dashboard_overview_up',
    help: '1 when the last scrape could read the overview from Redis, else 0',
    registers,
    async collect() {
      this.set((await overview()) === undefined ? 0 : 1);
    },
  });
  byPriority('herald_stream_length', 'Entries in the priority streams (XLEN, summed over partitions)', (p) => p.streamLength);
  byPriority('herald_consumer_lag', "Stream entries the router's consumer group has not read yet", (p) => p.lag);
  byPriority('herald_pending_entries', 'Stream entries read by the router and not acknowledged yet', (p) => p.pending);
  byPriority('herald_oldest_pending_age_seconds', 'Age of the oldest pending stream entry since it was appended', (p) => p.oldestPendingAgeSeconds);
  byPriority('herald_stream_backlog_events', 'Events appended and not acknowledged (what the backlog limit applies to)', (p) => p.backlog);
  byPriority('herald_dead_letter_entries', "Entries in the priority streams' dead-letter streams", (p) => p.deadLetters.count);
  byQueue('herald_delivery_queue_depth', 'Delivery jobs waiting, active or delayed', (q) => q.depth);
  byQueue('herald_delivery_queue_failed_jobs', 'Delivery jobs in the failed set (they failed every attempt)', (q) => q.failed);
  new Gauge({
    name: 'herald_devices_online',
    help: 'Devices connected to live gateway nodes (summed over nodes)',
    registers,
    async collect() {
      this.reset();
      const o = await overview();
      if (o !== undefined) this.set(o.gateway.devicesOnline);
    },
  });
  new Gauge({
    name: 'herald_gateway_nodes_live',
    help: 'Gateway nodes whose last heartbeat is recent',
    registers,
    async collect() {
      this.reset();
      const o = await overview();
      if (o !== undefined) this.set(o.gateway.nodes.length);
    },
  });
}
