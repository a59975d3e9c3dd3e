/*
 * `@herald/openapi/conformance`: checks a document and real traffic against it. A door of its
 * own so that the apps, which import `@herald/openapi` to serve the documents, never load Ajv.
 */
export { ConformanceError, ResponseConformance } from './response-conformance.js';
export type { ObservedRequest, ObservedResponse } from './response-conformance.js';
export { validateOpenApiDocument } from './validate-document.js';
