#!/usr/bin/env node
// The `herald` command. Runs the compiled CLI (dist/) when it has been built; in a development
// checkout without a build, runs the TypeScript sources through tsx, resolving the workspace
// packages to their sources as `--conditions=development` would. HERALD_CLI_FROM_SOURCE=1 picks
// the sources even when dist/ exists (a stale build would otherwise win silently).
import { existsSync } from 'node:fs';
import process from 'node:process';
import { register as registerHooks } from 'node:module';
import { URL, fileURLToPath } from 'node:url';

const compiled = new URL('../dist/main.js', import.meta.url);
if (process.env.HERALD_CLI_FROM_SOURCE !== '1' && existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  // Registered after tsx, so it runs first: every import resolves with the `development` condition.
  const addDevelopmentCondition = `export async function resolve(specifier, context, next) {
    const conditions = context.conditions.includes('development') ? context.conditions : [...context.conditions, 'development'];
    return next(specifier, { ...context, conditions });
  }`;
  registerHooks(`data:text/javascript,${encodeURIComponent(addDevelopmentCondition)}`);
  await import(new URL('../src/main.ts', import.meta.url).href);
}
