import { once } from 'node:events';
import { createServer } from 'node:http';
import { loadConfig } from '@herald/config';
import { createLogger, listenOn, runMain, stopOnSignals } from '@herald/runtime';
import { createDemoApp, demoOptionsFrom } from './index.js';

runMain(async () => {
  const config = loadConfig(process.env, 'demo');
  const options = demoOptionsFrom(config);
  const logger = createLogger({ app: 'demo', level: config.logLevel });
  for (const warning of config.warnings) logger.warn(warning);

  const server = createServer(createDemoApp({ logger }, options));
  await listenOn(server, config.ports.demo, 'DEMO_PORT');
  logger.info(
    { port: config.ports.demo, ingestUrl: options.ingestUrl, gatewayUrl: options.gatewayUrl },
    `demo listening on http://localhost:${config.ports.demo}`,
  );

  stopOnSignals({
    app: 'demo',
    logger,
    stop: async () => {
      const closed = once(server, 'close');
      server.close();
      // The page's own requests are short; nothing of the demo's is worth waiting for.
      server.closeAllConnections();
      await closed;
    },
  });
});
