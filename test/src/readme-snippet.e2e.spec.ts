import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { useStack } from './stack.fixture.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The code block that follows `<!-- readme-snippet: <name> … -->` in the README. */
export function readmeSnippet(name: string): string {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const match = new RegExp(`<!-- readme-snippet: ${name}\\b[^>]*-->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (match === null) throw new Error(`no README snippet named ${name}`);
  return match[1]!;
}

describe("the README's SDK snippet", function () {
  this.timeout(30_000);
  const stack = useStack();

  it('registers a device and receives one notification, as written (regression: it did not run: undefined variables, and dist/ missing after npm ci)', async () => {
    // Inside the repository, as the README says, so `@herald/client` resolves; test/artifacts is git-ignored.
    mkdirSync(`${root}test/artifacts`, { recursive: true });
    const file = `${root}test/artifacts/first-notification.mjs`;
    writeFileSync(file, readmeSnippet('first-notification'));
    // From the sources (the `development` condition), so the test checks this checkout, not a stale build.
    const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, HERALD_INGEST_URL: stack.ingestUrl, HERALD_GATEWAY_URL: stack.gatewayUrl, HERALD_SERVICE_KEY: stack.serviceKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).to.equal(0);
    expect(output).to.match(/^living-room-tv received plan\.changed \{"plan":"premium"\} \(event [0-9a-f-]{36}\)\n$/);
  });
});
