import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freePort } from '@herald/embedded-redis';
import { waitFor } from '@herald/testing';
import { waitForHistory } from './client-e2e.fixture.js';
import { useStack } from './stack.fixture.js';

/** The `herald` bin as npm links it; run without a build it compiles the sources through tsx. */
const bin = fileURLToPath(new URL('../../packages/cli/bin/herald.js', import.meta.url));

/** The test's environment without HERALD_* variables, so only what a test passes counts. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('HERALD_')));
  return { ...env, ...extra };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `herald` process, its output so far, and its exit. */
interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<Run>;
}

function start(args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Running {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

describe('herald (CLI) against the real stack', function () {
  this.timeout(30_000);
  const running: Running[] = [];
  afterEach(async () => {
    for (const { child, exited } of running.splice(0)) {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
  // Heartbeats every 500 ms, so a deleted device is noticed within a second.
  const stack = useStack({ HERALD_PRESENCE_TTL_MS: '1500' });

  const globals = () => ['--ingest', stack.ingestUrl, '--gateway', stack.gatewayUrl, '--key', stack.serviceKey];
  const herald = (...args: string[]): Promise<Run> => {
    const run = start([...globals(), ...args]);
    running.push(run);
    return run.exited;
  };
  const deviceIds = async (accountId: string): Promise<string[]> => {
    const response = await fetch(`${stack.ingestUrl}/v1/accounts/${accountId}/devices`, { headers: stack.serviceHeaders });
    return ((await response.json()) as { devices: { deviceId: string }[] }).devices.map((device) => device.deviceId);
  };

  it('prints help and exits 0 (from dist/ and from the sources alike, never showing the key); an unknown command exits 2', async () => {
    const help = await herald('--help');
    expect(help.code).to.equal(0);
    for (const command of ['send', 'tail', 'devices', 'trace']) expect(help.stdout).to.contain(command);
    const fromSource = start(['--help'], cleanEnv({ HERALD_CLI_FROM_SOURCE: '1', HERALD_SERVICE_KEY: 'a-secret-service-key' }));
    running.push(fromSource);
    const sourceHelp = await fromSource.exited;
    expect(sourceHelp.code).to.equal(0);
    expect(sourceHelp.stdout).to.contain('trace');
    expect(sourceHelp.stdout).not.to.contain('a-secret-service-key');
    const unknown = await herald('frobnicate');
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/unknown command/);
  });

  it('send submits an event and prints its result as JSON; the same id again is a duplicate', async () => {
    const sent = await herald('send', 'plan.changed', '--account', 'acct-c1', '--payload', '{"plan":"premium"}', '--id', 'cli-1');
    expect(sent.stderr).to.equal('');
    expect(sent.code).to.equal(0);
    expect(JSON.parse(sent.stdout)).to.deep.equal({ id: 'cli-1', status: 'accepted', priority: 'high' });
    const again = await herald('send', 'plan.changed', '--account', 'acct-c1', '--id', 'cli-1');
    expect(JSON.parse(again.stdout)).to.include({ status: 'duplicate' });
  });

  it('send exits 2 on bad input, naming the option, before sending anything', async () => {
    const payload = await herald('send', 'plan.changed', '--account', 'acct-c2', '--payload', '{not json');
    expect(payload.code).to.equal(2);
    expect(payload.stderr).to.match(/--payload is not valid JSON/);
    const missing = await herald('send', 'plan.changed');
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/--account/);
    const id = await herald('send', 'plan.changed', '--account', 'acct-c2', '--id', 'has spaces');
    expect(id.code).to.equal(2);
    expect(id.stderr).to.match(/--id: /);
  });

  it('send exits 1 when the server refuses, showing its code, message and details', async () => {
    const unknownType = await herald('send', 'no.such.type', '--account', 'acct-c3');
    expect(unknownType.code).to.equal(1);
    expect(unknownType.stderr).to.contain('The event is invalid. (invalid_request)');
    expect(unknownType.stderr).to.match(/- events\.0\.type: /);
    const wrongKey = await (async () => {
      const run = start(['--ingest', stack.ingestUrl, '--key', 'wrong-key', 'send', 'plan.changed', '--account', 'acct-c3']);
      running.push(run);
      return run.exited;
    })();
    expect(wrongKey.code).to.equal(1);
    expect(wrongKey.stderr).to.match(/unauthorized, HTTP 401/);
    expect(wrongKey.stderr).to.match(/--key or HERALD_SERVICE_KEY/);
  });

  it("devices prints a table of the account's devices, or JSON, and reads its settings from the environment", async () => {
    await stack.registerDevice({ accountId: 'acct-c4', platform: 'web', deviceId: 'web-1' });
    await stack.registerDevice({ accountId: 'acct-c4', platform: 'tv', deviceId: 'tv-1', profileId: 'kids' });
    const table = await herald('devices', 'acct-c4');
    expect(table.code).to.equal(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^DEVICE\s+PLATFORM\s+PROFILE\s+ONLINE\s+LAST SEEN$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 4))).to.deep.equal([
      ['web-1', 'web', '-', 'no'],
      ['tv-1', 'tv', 'kids', 'no'],
    ]);

    const run = start(['devices', 'acct-c4', '--json'], cleanEnv({ HERALD_INGEST_URL: stack.ingestUrl, HERALD_SERVICE_KEY: stack.serviceKey }));
    running.push(run);
    const json = await run.exited;
    expect(json.code).to.equal(0);
    expect((JSON.parse(json.stdout) as { devices: { deviceId: string }[] }).devices.map((d) => d.deviceId)).to.deep.equal(['web-1', 'tv-1']);
  });

  it('exits 1 with a hint when ingest cannot be reached', async () => {
    const port = await freePort();
    const run = start(['--ingest', `http://127.0.0.1:${port}`, 'devices', 'acct-c5']);
    running.push(run);
    const { code, stderr } = await run.exited;
    expect(code).to.equal(1);
    expect(stderr).to.match(/ECONNREFUSED.*\(network_error\)/);
    expect(stderr).to.contain(`running at http://127.0.0.1:${port}?`);
  });

  it('tail prints each notification as a JSON line through a temporary device, and deletes it on Ctrl-C', async () => {
    const tail = start([...globals(), 'tail', 'acct-c6', '--platform', 'tv']);
    running.push(tail);
    await waitFor('tail is connected', () => tail.stderr().includes('Ctrl-C to stop'), { timeoutMs: 15_000 });
    const deviceId = /as device (cli-tail-[a-z0-9]+) \(tv\)/.exec(tail.stderr())?.[1];
    expect(deviceId).to.be.a('string');
    expect(await deviceIds('acct-c6')).to.deep.equal([deviceId]);

    const first = await stack.send({ type: 'plan.changed', accountId: 'acct-c6', payload: { plan: 'premium' } });
    const second = await stack.send({ type: 'mylist.updated', accountId: 'acct-c6' });
    await waitFor('two lines on stdout', () => tail.stdout().split('\n').length > 2);
    const lines = tail
      .stdout()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; type: string; payload: unknown });
    expect(lines.map((line) => line.id)).to.deep.equal([first.id, second.id]);
    expect(lines[0]).to.deep.include({ type: 'plan.changed', payload: { plan: 'premium' } });

    tail.child.kill('SIGINT');
    const { code } = await tail.exited;
    expect(code).to.equal(0);
    expect(await deviceIds('acct-c6')).to.deep.equal([]);
  });

  it("tail exits 1 with the server's reason when its device is deleted under it", async () => {
    const tail = start([...globals(), 'tail', 'acct-c7']);
    running.push(tail);
    await waitFor('tail is connected', () => tail.stderr().includes('Ctrl-C to stop'), { timeoutMs: 15_000 });
    const [deviceId] = await deviceIds('acct-c7');
    await fetch(`${stack.ingestUrl}/v1/accounts/acct-c7/devices/${deviceId}`, { method: 'DELETE', headers: stack.serviceHeaders });
    const { code, stderr } = await tail.exited;
    expect(code).to.equal(1);
    expect(stderr).to.match(/revoked\. \(unauthorized\)/);
  });

  it('trace shows where an event went; an unknown event exits 1 with not_found', async () => {
    await stack.registerDevice({ accountId: 'acct-c8', platform: 'ios', deviceId: 'ios-1' });
    const { id } = await stack.send({ type: 'plan.changed', accountId: 'acct-c8' });
    await waitForHistory(stack, 'acct-c8', 1);
    let traced = await herald('trace', id);
    for (let tries = 0; tries < 20 && !/status\s+routed/.test(traced.stdout); tries++) traced = await herald('trace', id);
    expect(traced.code).to.equal(0);
    expect(traced.stdout).to.match(new RegExp(`^event\\s+${id}\\s+\\(plan\\.changed\\)`));
    expect(traced.stdout).to.match(/status\s+routed/);
    expect(traced.stdout).to.match(/targeting\s+passed\s+ios-1/);

    const json = await herald('trace', id, '--json');
    expect(JSON.parse(json.stdout)).to.include({ id, accountId: 'acct-c8' });

    const unknown = await herald('trace', 'no-such-event');
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.match(/not_found, HTTP 404/);
  });
});

describe('herald send against an overloaded Herald (load shedding driven by the test, not the CPU)', function () {
  this.timeout(30_000);
  const signals = { current: { cpu: 0.1 }, read: () => signals.current };
  afterEach(() => {
    signals.current = { cpu: 0.1 };
  });
  const stack = useStack({ HERALD_SHEDDING: 'true', HERALD_SHED_INTERVAL_MS: '50', HERALD_SHED_MAX_RETRY_AFTER_SECONDS: '1' }, { overloadSignals: signals });

  it('backs off on overloaded as Retry-After says, saying so on stderr, and gives up with exit 1 and what to do; a high-priority event goes through', async () => {
    signals.current = { cpu: 0.99 };
    await waitFor(
      'low priority is fully shed',
      async () => /herald_overload_shed_ratio\{priority="low"[^}]*\} 1$/m.test(await (await fetch(`${stack.ingestUrl}/metrics`)).text()),
      { timeoutMs: 15_000 },
    );
    const globals = ['--ingest', stack.ingestUrl, '--key', stack.serviceKey];
    const started = Date.now();
    const shed = await start([...globals, 'send', 'recommendations.updated', '--account', 'acct-cli']).exited;
    expect(shed.code).to.equal(1);
    expect(shed.stdout).to.equal('');
    expect(shed.stderr).to.contain('retrying in 1.0 s (1 of 2)').and.to.contain('retrying in 1.0 s (2 of 2)');
    expect(shed.stderr).to.match(/\(overloaded\)\n.*nothing was written/);
    expect(Date.now() - started, 'two waits of Retry-After').to.be.at.least(2000);

    const high = await start([...globals, 'send', 'plan.changed', '--account', 'acct-cli']).exited;
    expect(high.code).to.equal(0);
    expect(JSON.parse(high.stdout)).to.include({ status: 'accepted', priority: 'high' });
  });
});
