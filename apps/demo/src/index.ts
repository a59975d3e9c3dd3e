export { createDemoApp } from './app.js';
export type { DemoDeps } from './app.js';
export { DEMO_DEFAULTS, demoOptionsFrom, resolveDemoOptions } from './options.js';
export type { DemoOptions, DemoOptionsInput } from './options.js';
