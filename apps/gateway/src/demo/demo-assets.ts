import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BuildFailure, Message } from 'esbuild';
import { HeraldError } from '@herald/contracts';

/**
 * The demo is served from the TypeScript sources, also when the gateway runs from `dist/`: the
 * page is a development aid, and bundling the sources (with the `development` condition, so
 * `@herald/client` comes from `packages/client/src`) means an edit to the SDK shows after a
 * restart, with no build step. `src/demo/` and `dist/demo/` are both two levels below the
 * package, so one relative path finds the sources from either.
 */
const SOURCES = new URL('../../src/demo/', import.meta.url);

/** The browser entry point the page loads as `/demo/demo.js`. */
const DEMO_ENTRY = fileURLToPath(new URL('browser/demo.ts', SOURCES));
const DEMO_PAGE = fileURLToPath(new URL('demo.html', SOURCES));

/**
 * The page and its script, made on first request and kept for the life of the process. A
 * failed bundle is not kept: the next request tries again (after you fix the error it shows).
 */
export class DemoAssets {
  private page: Promise<string> | undefined;
  private script: Promise<string> | undefined;

  html(): Promise<string> {
    this.page ??= readFile(DEMO_PAGE, 'utf8').catch((error: unknown) => {
      this.page = undefined;
      throw new HeraldError('internal', `The demo page is missing (${DEMO_PAGE}): it is served from the gateway's sources.`, { cause: error });
    });
    return this.page;
  }

  js(): Promise<string> {
    this.script ??= bundle(DEMO_ENTRY).catch((error: unknown) => {
      this.script = undefined;
      throw error;
    });
    return this.script;
  }
}

/** esbuild, in memory: one ES module for the browser with every dependency inlined. */
async function bundle(entry: string): Promise<string> {
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      // Resolve workspace packages to their TypeScript sources, as tsx does for the server.
      conditions: ['development'],
      // Unminified, so it reads well in the browser's devtools; an inline source map would triple its ~1 MB.
      legalComments: 'none',
      logLevel: 'silent',
    });
    const output = result.outputFiles[0];
    if (output === undefined) throw new Error('esbuild produced no output');
    return output.text;
  } catch (error) {
    const messages = isBuildFailure(error) ? error.errors.map(formatMessage).join('\n') : String(error);
    // Development only: the build error is the most useful answer there is.
    throw new HeraldError('internal', `Bundling the demo script failed:\n${messages}`, { cause: error });
  }
}

function isBuildFailure(error: unknown): error is BuildFailure {
  return error instanceof Error && Array.isArray((error as Partial<BuildFailure>).errors);
}

function formatMessage(message: Message): string {
  const where = message.location === null ? '' : `${message.location.file}:${message.location.line}:${message.location.column}: `;
  return `${where}${message.text}`;
}
