export { QUEUES_PATH, createDashboardApp } from './app.js';
export type { DashboardApp, DashboardDeps } from './app.js';
export { createDashboardDeps } from './wiring.js';
export type { DashboardWiringOverrides } from './wiring.js';
export { OverviewSchema } from './overview/overview-schema.js';
export type { OverloadOverview, Overview, PriorityOverview, QueueOverview } from './overview/overview-schema.js';
