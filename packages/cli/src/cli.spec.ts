import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { HeraldClientError } from '@herald/client';
import { VARIABLES } from '@herald/config';
import { EXIT, UsageError, parseOptions } from './cli-error.js';
import { SEND_RETRIES, SendOptionsSchema, buildEvent, describeRetry } from './commands/send.js';
import { formatTrace } from './commands/trace.js';
import type { CliIo } from './io.js';
import { describeError, table } from './output.js';
import { run } from './program.js';
import { resolveSettings } from './settings.js';

describe('herald send: building the event', () => {
  it('turns options into the event ingest expects', () => {
    const options = parseOptions(SendOptionsSchema, {
      account: 'acct-1',
      profile: 'kids',
      payload: '{"titleId":"t1"}',
      collapseKey: 't1',
      createdAt: '1700000000000',
      platforms: 'web, tv',
    });
    expect(buildEvent('viewing.progress', options)).to.deep.equal({
      type: 'viewing.progress',
      accountId: 'acct-1',
      profileId: 'kids',
      payload: { titleId: 't1' },
      collapseKey: 't1',
      createdAt: 1_700_000_000_000,
      targets: { platforms: ['web', 'tv'] },
    });
  });

  it('refuses a payload that is not a JSON object, and names bad options', () => {
    expect(() => buildEvent('plan.changed', parseOptions(SendOptionsSchema, { account: 'a', payload: '[1]' }))).to.throw(
      UsageError,
      /--payload must be a JSON object/,
    );
    expect(() => parseOptions(SendOptionsSchema, { account: 'a', platforms: 'web,fridge' })).to.throw(UsageError, /--platforms/);
    expect(() => parseOptions(SendOptionsSchema, { account: 'a', collapseKey: '' })).to.throw(UsageError, /--collapse-key/);
  });
});

describe('herald send: backing off', () => {
  it('says on stderr that it waits for Retry-After because Herald sheds the event, and which retry it is', () => {
    const error = new HeraldClientError('overloaded', 'Herald is overloaded and sheds low-priority events for now.', { status: 429, retryAfterMs: 3000 });
    expect(describeRetry({ error, delayMs: 3000, attempt: 1, events: 1 })).to.equal(
      `herald: Herald is overloaded and sheds this priority for now (overloaded); retrying in 3.0 s (1 of ${SEND_RETRIES})\n`,
    );
  });

  it('explains a final overloaded refusal: nothing was written, send it again after Retry-After', () => {
    const text = describeError(new HeraldClientError('overloaded', 'Herald is overloaded.', { status: 429, retryAfterMs: 5000 }), { service: 'ingest' });
    expect(text).to.contain('(overloaded, HTTP 429)').and.to.contain('nothing was written').and.to.contain('again in 5 s or later');
  });
});

describe('herald settings', () => {
  it('takes the command line first, then the environment, then the development defaults', () => {
    expect(resolveSettings({ ingest: 'http://a:1' }, { HERALD_INGEST_URL: 'http://b:2', HERALD_GATEWAY_URL: 'http://c:3' })).to.deep.equal({
      ingestUrl: 'http://a:1',
      gatewayUrl: 'http://c:3',
      serviceKey: 'dev-service-key',
    });
    expect(() => resolveSettings({ ingest: 'ftp://x' }, {})).to.throw(UsageError, /--ingest/);
  });

  it('follows INGEST_PORT and GATEWAY_PORT for its local defaults (regression: it went to 3100 and 3200 whatever ports npm start used)', () => {
    expect(resolveSettings({}, { INGEST_PORT: '4100', GATEWAY_PORT: '4200' })).to.deep.include({
      ingestUrl: 'http://localhost:4100',
      gatewayUrl: 'http://localhost:4200',
    });
    expect(resolveSettings({}, { INGEST_PORT: '4100', HERALD_INGEST_URL: 'http://ingest:1' })).to.deep.include({
      ingestUrl: 'http://ingest:1',
      gatewayUrl: 'http://localhost:3200',
    });
    expect(() => resolveSettings({}, { GATEWAY_PORT: 'eighty' })).to.throw(UsageError, /GATEWAY_PORT: must be a port number/);
  });
});

describe('herald trace: reading a trace', () => {
  it('says why an event was dropped, by the verdict the tap uses (regression: "targeting dropped" with no reason)', () => {
    const skipped = 'not reached: the targeting gate dropped the event (no_targets)';
    const text = formatTrace({
      id: 'e1',
      priority: 'high',
      status: 'dropped',
      verdict: 'no_targets',
      acceptedAt: '2026-01-01T00:00:00.000Z',
      type: 'plan.changed',
      accountId: 'acct-1',
      routedAt: '2026-01-01T00:00:00.010Z',
      gates: [
        { gate: 'stale', verdict: 'passed' },
        { gate: 'duplicate', verdict: 'passed' },
        { gate: 'targeting', verdict: 'dropped', reason: 'no devices registered for this account' },
        { gate: 'history', verdict: 'skipped', reason: skipped },
        { gate: 'online', verdict: 'skipped', reason: skipped, devices: [] },
      ],
      pushes: [],
      failures: [],
      acks: [],
    });
    expect(text).to.contain('status    dropped: no_targets (no devices registered for this account)\n');
    expect(text).to.match(/targeting\s+dropped\s+no devices registered for this account/);
    expect(text).to.match(/history\s+skipped\s+not reached: the targeting gate dropped the event \(no_targets\)/);
  });
});

describe('table', () => {
  it('pads columns to their widest cell', () => {
    expect(
      table(
        ['A', 'LONG'],
        [
          ['wide-cell', 'x'],
          ['b', 'y'],
        ],
      ),
    ).to.equal('A          LONG\nwide-cell  x\nb          y\n');
  });
});

describe('herald config', function () {
  this.timeout(30_000);

  /** Runs the program in this process, with its output captured. */
  async function herald(argv: string[], environment: Record<string, string>) {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      onInterrupt: () => () => undefined,
    };
    const code = await run(argv, io, environment);
    return { code, stdout, stderr };
  }

  it('lists every variable by group with its value, source and default, secrets masked, and warns of unknown HERALD_* variables', async () => {
    const { code, stdout, stderr } = await herald(['config'], {
      INGEST_PORT: '4100',
      HERALD_DEVICE_SECRET: 'a-device-secret-of-32-characters!',
      HERALD_GATWAY_URL: 'http://x',
      PATH: '/usr/bin',
    });
    expect(code).to.equal(EXIT.ok);
    expect(stdout.split('\n')[0]).to.match(/^VARIABLE +VALUE +SOURCE +DEFAULT$/);
    for (const variable of VARIABLES) expect(stdout).to.match(new RegExp(`^${variable.name} `, 'm'));
    expect(stdout)
      .to.match(/^Ports:$/m)
      .and.to.match(/^Per priority:$/m);
    expect(stdout).to.match(/^INGEST_PORT +4100 +env +3100$/m);
    expect(stdout).to.match(/^GATEWAY_PORT +3200 +default +3200$/m);
    expect(stdout).to.match(/^HERALD_CATALOG +- +unset +the shipped catalog$/m);
    expect(stdout)
      .to.match(/^HERALD_DEVICE_SECRET +\*{8} +env /m)
      .and.not.to.contain('a-device-secret');
    expect(stderr).to.equal('herald: unknown variable HERALD_GATWAY_URL (ignored); did you mean HERALD_GATEWAY_URL?\n');
  });

  it('prints JSON with --json', async () => {
    const { code, stdout, stderr } = await herald(['config', '--json'], { HERALD_PARTITONS_LOW: '8' });
    expect(code).to.equal(EXIT.ok);
    expect(stderr).to.equal('');
    const printed = JSON.parse(stdout) as { variables: { name: string; source: string }[]; unknown: unknown[]; problems: unknown[] };
    expect(printed.variables.map((variable) => variable.name)).to.deep.equal(VARIABLES.map((variable) => variable.name));
    expect(printed.variables.find((variable) => variable.name === 'HERALD_PARTITIONS_LOW')).to.deep.include({ source: 'default', value: '4' });
    expect(printed.unknown).to.deep.equal([{ name: 'HERALD_PARTITONS_LOW', suggestion: 'HERALD_PARTITIONS_LOW' }]);
    expect(printed.problems).to.deep.equal([]);
  });

  it('says what would stop an app from starting, with the apps it stops, and exits 2', async () => {
    const { code, stderr } = await herald(['config'], { GATEWAY_PORT: 'eighty', HERALD_PUSH_PROVIDER_IOS: 'apns' });
    expect(code).to.equal(EXIT.usage);
    expect(stderr).to.match(/^herald: GATEWAY_PORT: .*expected number.*$/m);
    expect(stderr).not.to.match(/GATEWAY_PORT: .*\(ingest/);
    const production = await herald(['config'], { NODE_ENV: 'production', HERALD_SERVICE_KEYS: 'billing:0123456789' });
    expect(production.code).to.equal(EXIT.usage);
    expect(production.stderr).to.contain('herald: Missing secrets for production (NODE_ENV=production): set HERALD_DEVICE_SECRET. (ingest, gateway)\n');
    expect(production.stderr).to.contain('set HERALD_ADMIN_USER, HERALD_ADMIN_PASSWORD. (dashboard)\n');
  });

  it("reads the process's environment when run as the herald command", async () => {
    const bin = fileURLToPath(new URL('../bin/herald.js', import.meta.url));
    const env = { PATH: process.env['PATH'] ?? '', HERALD_CLI_FROM_SOURCE: '1', WORKER_PORT: '4400', HERALD_WORKER_NISE: '10' };
    const child = spawn(process.execPath, [bin, 'config'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).to.equal(0);
    expect(stdout).to.match(/^WORKER_PORT +4400 +env +3400$/m);
    expect(stderr).to.equal('herald: unknown variable HERALD_WORKER_NISE (ignored); did you mean HERALD_WORKER_NICE?\n');
  });
});
