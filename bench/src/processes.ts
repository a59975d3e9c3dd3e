import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a TypeScript entry point of this repository as a child process, the way npm start does. */
export function runTs(entry: string, env: NodeJS.ProcessEnv, nodeFlags: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeFlags, '--conditions=development', '--import', 'tsx', `${root}${entry}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Keep the pipe flowing: a full pipe would block the child.
  child.stdout?.resume();
  return child;
}

/**
 * `--cpu-prof` into bench/results/<role> for the process of `role` when HERALD_BENCH_CPU_PROF names it
 * (a comma-separated list of roles, e.g. `gateway,ingest`; `1`: every role), else nothing.
 */
export function cpuProfileFlags(role: 'worker' | 'gateway' | 'ingest'): string[] {
  const wanted = (process.env['HERALD_BENCH_CPU_PROF'] ?? '').split(',').map((name) => name.trim());
  return wanted.includes('1') || wanted.includes(role) ? ['--cpu-prof', '--cpu-prof-dir', `${root}bench/results/${role}`] : [];
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * CPU seconds (user + system) a process and its finished children (e.g. Redis's AOF rewrites,
 * forked) have used so far, from /proc (Linux).
 */
export function processCpuSeconds(pid: number): number {
  const ticks = 100; // USER_HZ on Linux
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticks;
}
