import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BuildFailure, Message } from 'esbuild';
import { HeraldError } from '@herald/contracts';

/**
 * The demo runs from its TypeScript sources only (it is a development aid, never built): the
 * script is bundled from them with the `development` condition, so `@herald/client` comes from
 * `packages/client/src` and an edit to the SDK shows after a restart, with no build step.
 */
const DEMO_ENTRY = fileURLToPath(new URL('browser/demo.ts', import.meta.url));
const DEMO_PAGE = fileURLToPath(new URL('demo.html', import.meta.url));

/** Where the page's template takes the gateway's URL (the page's devices connect there). */
const GATEWAY_URL_SLOT = '{{gatewayUrl}}';

/**
 * The page and its script, made on first request and kept for the life of the process. A
 * failed bundle is not kept: the next request tries again (after you fix the error it shows).
 */
export class DemoAssets {
  private page: Promise<string> | undefined;
  private script: Promise<string> | undefined;

  constructor(private readonly gatewayUrl: string) {}

  html(): Promise<string> {
    this.page ??= readFile(DEMO_PAGE, 'utf8').then(
      (template) => template.replaceAll(GATEWAY_URL_SLOT, escapeHtml(this.gatewayUrl)),
      (error: unknown) => {
        this.page = undefined;
        throw new HeraldError('internal', `The demo page is missing (${DEMO_PAGE}): it is served from the demo's sources.`, { cause: error });
      },
    );
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

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function isBuildFailure(error: unknown): error is BuildFailure {
  return error instanceof Error && Array.isArray((error as Partial<BuildFailure>).errors);
}

function formatMessage(message: Message): string {
  const where = message.location === null ? '' : `${message.location.file}:${message.location.line}:${message.location.column}: `;
  return `${where}${message.text}`;
}
