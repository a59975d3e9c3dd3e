import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const EXTRA_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/opt/homebrew/bin'];

/** The path of `redis-server` on this machine, or undefined. */
export function findRedisServer(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...EXTRA_DIRS].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

interface InstallPlan {
  description: string;
  steps: [string, ...string[]][];
}

function installPlan(): InstallPlan | undefined {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.platform === 'linux' && isRoot && commandExists('apt-get')) {
    return {
      description: 'apt-get install -y redis-server',
      steps: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', 'redis-server'],
      ],
    };
  }
  if (process.platform === 'darwin' && commandExists('brew')) {
    return { description: 'brew install redis', steps: [['brew', 'install', 'redis']] };
  }
  return undefined;
}

export class RedisServerMissingError extends Error {
  override readonly name = 'RedisServerMissingError';
}

/**
 * Finds `redis-server`, installing it where that is possible without asking anything (Debian or
 * Ubuntu as root, or macOS with Homebrew), after saying so. Otherwise throws, naming the command.
 */
export function ensureRedisServer(log: (line: string) => void = console.error): string {
  const found = findRedisServer();
  if (found !== undefined) return found;
  const plan = installPlan();
  if (plan === undefined) {
    throw new RedisServerMissingError(
      'redis-server (Redis 7 or newer) is not installed. Install it, e.g. `sudo apt-get install -y redis-server` ' +
        'on Debian/Ubuntu or `brew install redis` on macOS, or set REDIS_URL to a Redis you run.',
    );
  }
  log(`redis-server is not installed; installing it now with \`${plan.description}\` ...`);
  for (const [command, ...args] of plan.steps) {
    const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (result.status !== 0) {
      throw new RedisServerMissingError(`Installing redis-server failed (\`${[command, ...args].join(' ')}\`). Run \`${plan.description}\` yourself.`);
    }
  }
  const installed = findRedisServer();
  if (installed === undefined) throw new RedisServerMissingError(`\`${plan.description}\` ran but redis-server is still not on the PATH.`);
  return installed;
}
