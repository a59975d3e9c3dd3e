export { CatalogSchema, DEFAULT_CATALOG, EventCatalog, EventTypeSchema, loadCatalog } from './catalog.js';
export type { CatalogDefinition, EventType } from './catalog.js';
