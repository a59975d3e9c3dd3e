import type { CliIo } from './io.js';
import { run } from './program.js';

/** Signals that end a long-running command (tail) cleanly, and a closed stdout (`herald tail … | head`). */
function onInterrupt(handler: () => void): () => void {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, handler);
  process.stdout.on('error', handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
    process.stdout.off('error', handler);
  };
}

const io: CliIo = { stdout: process.stdout, stderr: process.stderr, onInterrupt };
process.exitCode = await run(process.argv.slice(2), io, process.env);
