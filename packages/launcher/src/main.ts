import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, unknownVariables } from '@herald/config';
import { acquireInstanceLock } from './instance-lock.js';
import { launch } from './launcher.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

// A closed terminal must not kill the launcher mid-stop: output then goes nowhere, quietly.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'launcher');
  for (const warning of config.warnings) console.warn(`warning: ${warning}`);
  // Unknown HERALD_* variables are said once, here: the apps would ignore them too, and warn each.
  const unknown = new Set(unknownVariables(process.env).map(({ name }) => name));
  const appsEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !unknown.has(name)));
  // Signals are handled from the first moment, so a Ctrl-C during start-up stops what started;
  // SIGHUP (the terminal closed) stops Herald like Ctrl-C.
  let signalled: string | undefined;
  let onSignal = (signal: string) => void (signalled = signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => onSignal(signal));

  // One `npm start` per data folder: a second one would stop the first one's Redis (it is the
  // same AOF) and start its apps on ports the first one's apps hold.
  const urls = {
    ingest: `http://localhost:${config.ports.ingest}`,
    gateway: `http://localhost:${config.ports.gateway}`,
    dashboard: `http://localhost:${config.ports.dashboard}/admin`,
    worker: `http://localhost:${config.ports.worker}`,
  };
  const lock = acquireInstanceLock(config.dataDir ?? join(root, '.herald'), { pid: process.pid, startedAt: new Date().toISOString(), urls });
  if (!lock.acquired) {
    const { pid, urls: theirs } = lock.running;
    console.error(
      `Herald is already running (launcher pid ${pid}): ingest ${theirs.ingest}, gateway ${theirs.gateway}, dashboard ${theirs.dashboard}, worker ${theirs.worker}; stop it first (Ctrl-C in its terminal, or kill ${pid}).`,
    );
    process.exit(1);
  }
  process.on('exit', () => lock.release());

  const herald = await launch({ config, root, env: appsEnv });
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
      `  ingest     ${urls.ingest}   (POST /v1/events, GET /v1/event-types)`,
      `  worker     ${urls.worker}   (routes events; GET /v1/dead-letters)`,
      `  gateway    ${urls.gateway}   (Socket.IO for web and TV; GET /v1/notifications)`,
      `  dashboard  ${urls.dashboard}   (login ${defaultLogin ? `${config.admin.user} / ${config.admin.password}` : 'HERALD_ADMIN_USER / HERALD_ADMIN_PASSWORD'}; queues, stream lag, devices online, live tap)`,
      ...(config.demo.enabled
        ? [`  demo       http://localhost:${config.ports.demo}   (send sample events, watch them arrive on TV, web and phone panes)`]
        : []),
      `  redis      ${herald.redisUrl}${config.redisUrl === undefined ? `   (embedded, data in ${config.dataDir ?? '.herald'}/redis, AOF on${herald.appsRedisUrl === herald.redisUrl ? '' : '; the apps use its Unix socket'})` : ''}`,
      ...(dev
        ? [
            '  development credentials (set the variables to replace them):',
            ...(defaultKey ? [`    service key      ${serviceKey}   (HERALD_SERVICE_KEYS, comma-separated name:key pairs)`] : []),
            ...(defaultLogin ? [`    dashboard login  ${config.admin.user} / ${config.admin.password}   (HERALD_ADMIN_USER / HERALD_ADMIN_PASSWORD)`] : []),
            // A device first: an event for an account without devices is dropped (no_targets).
            `  try: curl -H 'authorization: Bearer ${serviceKey}' -H 'content-type: application/json' \\`,
            `         -d '{"accountId":"acct-1","platform":"android","deviceId":"phone-1"}' ${urls.ingest}/v1/devices`,
            `       curl -H 'authorization: Bearer ${serviceKey}' -H 'content-type: application/json' \\`,
            `         -d '{"type":"plan.changed","accountId":"acct-1"}' ${urls.ingest}/v1/events`,
            `       npx herald trace <id>   (where it went, and why)`,
          ]
        : []),
      'Press Ctrl-C to stop (closing the terminal stops it too).',
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
