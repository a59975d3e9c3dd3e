export { ConfigError, DEVELOPMENT_SECRETS, loadConfig } from './config.js';
export type { AppName, HeraldConfig, GatewayConfig, PriorityConfig, ServiceKey, WorkerConfig } from './config.js';
