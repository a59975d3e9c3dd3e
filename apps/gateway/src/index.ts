export { createGateway } from './gateway.js';
export type { Gateway, GatewayDeps } from './gateway.js';
export { GATEWAY_DEFAULTS, resolveGatewayOptions } from './options.js';
export type { GatewayOptions, GatewayOptionsInput } from './options.js';
export { MAX_PULL_LIMIT, MAX_WAIT_MS, PullQuerySchema } from './pull/selection.js';
export type { PullResult } from './pull/selection.js';
export type { GatewayServer, GatewaySocket, InterServerEvents, SocketData } from './sockets/types.js';
export { createGatewayWiring } from './wiring.js';
export type { GatewayWiring } from './wiring.js';
