import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.js';

/**
 * A Lua script, run by SHA with a fallback to loading it when the server does not know it
 * (after a restart or failover). Keys are passed as KEYS so Redis Cluster can route them.
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Reads `<name>.lua` from a folder URL (e.g. `new URL('../lua/', import.meta.url)`). */
  static fromFile(folder: URL, name: string): RedisScript {
    return new RedisScript(name, readFileSync(new URL(`${name}.lua`, folder), 'utf8'));
  }

  async run(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
