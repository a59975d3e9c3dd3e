import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** What the lock file says about the running `npm start`: enough for a second one to point at it. */
const InstanceSchema = z.object({
  pid: z.number().int().positive(),
  startedAt: z.string(),
  urls: z.object({ ingest: z.string(), gateway: z.string(), dashboard: z.string(), worker: z.string() }),
});
export type Instance = z.infer<typeof InstanceSchema>;

export type LockResult = { acquired: true; release(): void } | { acquired: false; running: Instance };

/** The lock file of a data folder: one `npm start` per embedded Redis (and per set of ports). */
export const lockFile = (dataDir: string) => join(dataDir, 'launcher.lock');

/**
 * Whether the process is alive and, where /proc tells, a Herald launcher: a stale lock whose pid
 * was reused by another program must not keep Herald from starting.
 */
export function isRunningLauncher(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, another user's.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launcher');
  } catch {
    return true;
  }
}

function readInstance(path: string): Instance | undefined {
  try {
    const parsed = InstanceSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the data folder's lock for this launcher, or says which launcher holds it. The lock is
 * written whole to a file of its own and then hard-linked into place, which fails if the lock
 * exists: two starts racing cannot both win, nor read a half-written lock. A lock left by a
 * launcher that is gone (killed, crashed) is taken over.
 */
export function acquireInstanceLock(dataDir: string, self: Instance): LockResult {
  mkdirSync(dataDir, { recursive: true });
  const path = lockFile(dataDir);
  const mine = `${path}.${self.pid}`;
  writeFileSync(mine, `${JSON.stringify(self)}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = readInstance(path);
        if (holder !== undefined && holder.pid !== self.pid && isRunningLauncher(holder.pid)) return { acquired: false, running: holder };
        // Stale (its launcher is gone) or unreadable: take it over.
        rmSync(path, { force: true });
        continue;
      }
      return {
        acquired: true,
        release() {
          // Only our own: never a lock another launcher took over meanwhile.
          if (readInstance(path)?.pid === self.pid) rmSync(path, { force: true });
        },
      };
    }
    throw new Error(`could not take the lock ${path}`);
  } finally {
    rmSync(mine, { force: true });
  }
}
