export { ConfigError, DEVELOPMENT_SECRETS, loadConfig, requireRedisUrl } from './config.js';
export type { AppName, DemoConfig, HeraldConfig, GatewayConfig, OverloadConfig, PriorityConfig, PushConfig, PushProviderConfig, PushProviderName, ServiceKey, WorkerConfig } from './config.js';
