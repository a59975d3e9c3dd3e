export { ConfigError, DEVELOPMENT_SECRETS, configProblems, loadConfig, requireRedisUrl } from './config.js';
export type {
  AppName,
  DemoConfig,
  HeraldConfig,
  GatewayConfig,
  OverloadConfig,
  PriorityConfig,
  PushConfig,
  PushProviderConfig,
  ServiceKey,
  WorkerConfig,
} from './config.js';
export { listVariables, mask } from './listing.js';
export type { VariableListing } from './listing.js';
export { describeUnknownVariable, editDistance, unknownVariables } from './unknown-variables.js';
export type { UnknownVariable } from './unknown-variables.js';
export { EnvSchema, OTHER_VARIABLES, OTHER_VARIABLE_PREFIXES, VARIABLES, VARIABLE_GROUPS } from './variables.js';
export type { EnvVars, Masking, PushProviderName, Variable, VariableGroup, VariableInfo, VariableName } from './variables.js';
