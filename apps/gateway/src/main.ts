import { ConfigError, loadConfig } from '@herald/config';
import { createGateway, createGatewayWiring } from './index.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'gateway');
  if (config.redisUrl === undefined) {
    throw new ConfigError('REDIS_URL is not set. Run `npm start` (it starts an embedded Redis) or point REDIS_URL at your Redis.');
  }
  const wiring = createGatewayWiring(config, config.redisUrl);
  const { logger } = wiring.deps;
  for (const line of config.developmentDefaults) logger.warn(`development default in use: ${line}`);

  const gateway = createGateway(wiring.deps, wiring.options);
  const port = await gateway.listen(config.ports.gateway);
  logger.info({ port, nodeId: gateway.options.nodeId }, `gateway listening on http://localhost:${port}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway stopping: asking clients to reconnect elsewhere');
    await gateway.close();
    await wiring.closeConnections();
    logger.info('gateway stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
