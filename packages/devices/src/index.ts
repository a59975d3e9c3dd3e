export { DeviceRegistry } from './device-registry.js';
export type { DeviceRegistryOptions, DeviceView } from './device-registry.js';
export { DeviceTokens } from './device-tokens.js';
export type { DeviceTokensOptions, VerifiedDeviceToken } from './device-tokens.js';
export { Presence } from './presence.js';
export type { PresenceOptions } from './presence.js';
