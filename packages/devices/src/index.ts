export { DeviceRegistry } from './device-registry.js';
export type { DeviceRegistryOptions, DeviceView } from './device-registry.js';
export { DeviceTokens } from './device-tokens.js';
export type { DeviceTokensOptions, VerifiedDeviceToken } from './device-tokens.js';
