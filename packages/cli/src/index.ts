/** The `herald` command line, as a library: `run(argv, io, process.env)` resolves with the exit code. */
export { createProgram, run } from './program.js';
export { EXIT, UsageError } from './cli-error.js';
export { DEFAULTS, EnvSchema } from './settings.js';
export type { CliEnv, Environment, Settings } from './settings.js';
export type { CliIo } from './io.js';
