export { createIngestApp } from './app.js';
export type { IngestDeps } from './app.js';
export { createIngestDeps } from './wiring.js';
export type { IngestWiringOverrides } from './wiring.js';
export type { ShedDoor } from './routes/events.js';
