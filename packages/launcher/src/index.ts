export { APPS, appsToRun } from './apps.js';
export type { AppProcess } from './apps.js';
export { launch, stopProcesses, waitUntilReady } from './launcher.js';
export type { LauncherOptions, RunningHerald } from './launcher.js';
