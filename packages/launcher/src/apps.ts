import type { HeraldConfig } from '@herald/config';

/** The apps `npm start` runs, each as its own process, in start order. */
export interface AppProcess {
  name: 'ingest' | 'worker' | 'gateway' | 'dashboard' | 'demo';
  /** Entry point, relative to the repository root. */
  main: string;
  /**
   * Node flags. A larger young generation (`--max-semi-space-size`, MB) cuts GC time on the
   * allocation-heavy JSON paths: +13% batch throughput in bench/ingest.
   */
  nodeFlags: string[];
  /** The config field holding its port, for the ready check and the banner. */
  portOf: (ports: HeraldConfig['ports']) => number | undefined;
  /** Whether `npm start` runs it with this config; absent: always. */
  runs?: (config: HeraldConfig) => boolean;
}

export const APPS: readonly AppProcess[] = [
  { name: 'ingest', main: 'apps/ingest/src/main.ts', nodeFlags: ['--max-semi-space-size=64'], portOf: (ports) => ports.ingest },
  { name: 'worker', main: 'apps/worker/src/main.ts', nodeFlags: ['--max-semi-space-size=64'], portOf: (ports) => ports.worker },
  { name: 'gateway', main: 'apps/gateway/src/main.ts', nodeFlags: [], portOf: (ports) => ports.gateway },
  { name: 'dashboard', main: 'apps/dashboard/src/main.ts', nodeFlags: [], portOf: (ports) => ports.dashboard },
  // The development demo, a client of ingest and the gateway: last, once they answer.
  { name: 'demo', main: 'apps/demo/src/main.ts', nodeFlags: [], portOf: (ports) => ports.demo, runs: (config) => config.demo.enabled },
];

/** The apps `npm start` runs with this config, in start order. */
export function appsToRun(config: HeraldConfig): AppProcess[] {
  return APPS.filter((app) => app.runs?.(config) ?? true);
}
