import { loadConfig, requireRedisUrl } from '@herald/config';
import { checkRedis, describeListenError, runMain, stopOnSignals } from '@herald/runtime';
import { createGateway, createGatewayWiring } from './index.js';

runMain(async () => {
  const config = loadConfig(process.env, 'gateway');
  const wiring = createGatewayWiring(config, requireRedisUrl(config));
  const { logger } = wiring.deps;
  await checkRedis(wiring.deps.redis, logger);
  for (const warning of config.warnings) logger.warn(warning);

  const gateway = createGateway(wiring.deps, wiring.options);
  const port = await gateway.listen(config.ports.gateway).catch((error: unknown) => {
    throw describeListenError(error, 'GATEWAY_PORT', config.ports.gateway);
  });
  logger.info({ port, nodeId: gateway.options.nodeId }, `gateway listening on http://localhost:${port}`);

  stopOnSignals({
    app: 'gateway',
    logger,
    redis: wiring.deps.redis,
    // Ask clients to reconnect elsewhere, answer waiting long-polls, mark this node's devices offline.
    stop: async () => {
      await gateway.close();
      await wiring.closeConnections();
    },
  });
});
