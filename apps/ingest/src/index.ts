export { createIngestApp } from './app.js';
export type { IngestDeps } from './app.js';
export { createIngestDeps } from './wiring.js';
