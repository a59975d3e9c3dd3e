import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.js';

const INCLUDES = new URL('../lua/includes/', import.meta.url);

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

  /**
   * Reads `<name>.lua` from a folder URL (e.g. `new URL('../lua/', import.meta.url)`). A line
   * `--- @include "<helper>"` is replaced by `packages/redis/lua/includes/<helper>.lua` (as
   * BullMQ does), so scripts of several packages share Lua helpers.
   */
  static fromFile(folder: URL, name: string): RedisScript {
    const source = readFileSync(new URL(`${name}.lua`, folder), 'utf8').replace(/^--- @include "([\w-]+)"$/gm, (_, helper: string) =>
      readFileSync(new URL(`${helper}.lua`, INCLUDES), 'utf8'),
    );
    return new RedisScript(name, source);
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
