export { errorHandler, methodNotAllowed, normalizeError, notFound } from './errors.js';
export { healthRoutes } from './health.js';
export { bearerToken, serviceAuth } from './service-auth.js';
export type { ServiceCredential } from './service-auth.js';
export { jsonBody, parseInput } from './validation.js';
export { requestMetrics } from './request-metrics.js';
