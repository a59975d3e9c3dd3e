import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@herald/config';
import { launch } from './launcher.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'launcher');
  // Signals are handled from the first moment, so a Ctrl-C during start-up stops what started.
  let signalled: string | undefined;
  let onSignal = (signal: string) => void (signalled = signal);
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const herald = await launch({ config, root, env: process.env });
  const dev = !config.production;
  // Print a secret only when it is the public development default, never one the user set.
  const unset = (name: string) => (process.env[name] ?? '') === '';
  const defaultKey = dev && unset('HERALD_SERVICE_KEYS');
  const defaultLogin = dev && unset('HERALD_ADMIN_USER') && unset('HERALD_ADMIN_PASSWORD');
  const serviceKey = defaultKey ? (config.serviceKeys[0]?.key ?? '<service key>') : '<your service key>';
  console.log(
    [
      '',
      'Herald is running.',
      `  ingest     http://localhost:${config.ports.ingest}   (POST /v1/events, GET /v1/event-types)`,
      `  worker     http://localhost:${config.ports.worker}   (routes events; GET /v1/dead-letters)`,
      `  gateway    http://localhost:${config.ports.gateway}   (Socket.IO for web and TV; GET /v1/notifications)`,
      `  dashboard  http://localhost:${config.ports.dashboard}/admin   (login ${defaultLogin ? `${config.admin.user} / ${config.admin.password}` : 'HERALD_ADMIN_USER / HERALD_ADMIN_PASSWORD'}; queues, stream lag, devices online, live tap)`,
      ...(config.gateway.demo ? [`  demo       http://localhost:${config.ports.gateway}/demo   (send sample events, watch them arrive on TV, web and phone panes)`] : []),
      `  redis      ${herald.redisUrl}${config.redisUrl === undefined ? `   (embedded, data in ${config.dataDir ?? '.herald'}/redis, AOF on${herald.appsRedisUrl === herald.redisUrl ? '' : '; the apps use its Unix socket'})` : ''}`,
      ...(dev
        ? [
            '  development credentials (set the variables to replace them):',
            ...(defaultKey ? [`    service key      ${serviceKey}   (HERALD_SERVICE_KEYS, comma-separated name:key pairs)`] : []),
            ...(defaultLogin ? [`    dashboard login  ${config.admin.user} / ${config.admin.password}   (HERALD_ADMIN_USER / HERALD_ADMIN_PASSWORD)`] : []),
            `  try: curl -H 'authorization: Bearer ${serviceKey}' -H 'content-type: application/json' \\`,
            `         -d '{"type":"plan.changed","accountId":"acct-1"}' http://localhost:${config.ports.ingest}/v1/events`,
          ]
        : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nStopping Herald (${reason}) ...`);
    await herald.stop();
    console.log('Herald stopped.');
    process.exit(code);
  };
  onSignal = (signal) => void shutdown(signal, 0);
  if (signalled !== undefined) return shutdown(signalled, 0);
  const { app, code } = await herald.exited;
  await shutdown(`${app} exited with code ${code}`, 1);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error instanceof Error ? error.message : error);
  process.exit(1);
});
