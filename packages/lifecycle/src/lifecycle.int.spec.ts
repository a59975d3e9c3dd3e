import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs a small app using stopOnSignals, sends it SIGTERM once it is up, and returns its exit code and output. */
function runApp(stopBody: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const source = `
    import { stopOnSignals } from '@herald/lifecycle';
    import { createLogger } from '@herald/observability';
    const logger = createLogger({ app: 'probe', level: 'info' });
    stopOnSignals({ app: 'probe', logger, timeoutMs: ${timeoutMs}, stop: async () => { ${stopBody} } });
    setInterval(() => {}, 1000);
    console.log('up');
  `;
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('up') && !child.killed) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('stopOnSignals', function () {
  this.timeout(20_000);

  it('stops the app on SIGTERM and exits 0', async () => {
    const { code, output } = await runApp('await new Promise((r) => setTimeout(r, 50));', 5_000);
    expect(code).to.equal(0);
    expect(output).to.contain('probe stopping').and.to.contain('probe stopped');
  });

  it('exits 1 when stopping hangs past the timeout', async () => {
    const { code, output } = await runApp('await new Promise(() => {});', 300);
    expect(code).to.equal(1);
    expect(output).to.contain('did not stop within 300 ms');
  });

  it('exits 1 when stopping fails', async () => {
    const { code, output } = await runApp("throw new Error('redis gone');", 5_000);
    expect(code).to.equal(1);
    expect(output).to.contain('failed to stop cleanly');
  });
});
