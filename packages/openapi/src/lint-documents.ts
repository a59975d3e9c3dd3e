import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gatewayOpenApiDocument } from './gateway-document.js';
import { ingestOpenApiDocument } from './ingest-document.js';

/*
 * `npm run lint:openapi [-- --out <dir>]`: writes both documents as files, into <dir> (kept) or
 * a temporary directory, and lints them with Redocly CLI's recommended rules (redocly.yaml).
 * Offline: the rules ship with the CLI, and its telemetry is off. Exits with Redocly's status.
 */

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const dir = values.out === undefined ? mkdtempSync(join(tmpdir(), 'herald-openapi-')) : resolve(values.out);
try {
  mkdirSync(dir, { recursive: true });
  const files = Object.entries({ ingest: ingestOpenApiDocument(), gateway: gatewayOpenApiDocument() }).map(([app, document]) => {
    const file = join(dir, `${app}.openapi.json`);
    writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
    return file;
  });
  const cli = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin', 'cli.js');
  const config = fileURLToPath(new URL('../redocly.yaml', import.meta.url));
  const lint = spawnSync(process.execPath, [cli, 'lint', '--config', config, '--format', 'stylish', ...files], {
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  process.exitCode = lint.status ?? 1;
} finally {
  if (values.out === undefined) rmSync(dir, { recursive: true, force: true });
}
