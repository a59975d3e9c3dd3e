import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisServer } from '@herald/embedded-redis';
import type { RunningRedisServer } from '@herald/embedded-redis';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the embedded Redis on the data folder, AOF on. A Redis left running on the same
 * folder by a launcher that was killed is stopped first: two servers must never share an AOF.
 */
export async function startEmbeddedRedis(dataDir: string, log: (line: string) => void): Promise<RunningRedisServer> {
  const pidFile = join(dataDir, 'redis.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      log(`stopping the embedded Redis left running by an earlier start (pid ${pid})`);
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const server = await startRedisServer({ dir: dataDir, appendOnly: true, detached: true, log });
  writeFileSync(pidFile, String(server.pid));
  return {
    ...server,
    async stop() {
      await server.stop();
      rmSync(pidFile, { force: true });
    },
  };
}
