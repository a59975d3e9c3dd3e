import type { KeyBuilder, RedisClient } from '@herald/redis';

export interface PresenceOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  now?: () => number;
}

const field = (deviceId: string, nodeId: string) => JSON.stringify([deviceId, nodeId]);

function deviceOf(fieldName: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(fieldName);
    return Array.isArray(parsed) && typeof parsed[0] === 'string' ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which devices are connected, kept in Redis by the gateways and read by the worker's online
 * gate. Each gateway node owns one field per device it holds (`[deviceId, nodeId]` → expiry),
 * so one node closing its socket never hides another node's socket for the same device, and
 * a crashed node's devices fall offline when their expiry passes.
 */
export class Presence {
  private readonly now: () => number;

  constructor(private readonly options: PresenceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Marks (or keeps) a device online through this node for `ttlMs`. */
  async markOnline(accountId: string, deviceId: string, nodeId: string, ttlMs: number): Promise<void> {
    await this.options.redis.hset(this.options.keys.presence(accountId), field(deviceId, nodeId), this.now() + ttlMs);
  }

  /** This node holds no socket for the device any more. */
  async markOffline(accountId: string, deviceId: string, nodeId: string): Promise<void> {
    await this.options.redis.hdel(this.options.keys.presence(accountId), field(deviceId, nodeId));
  }

  /** The devices of an account online now; expired fields are removed on the way. */
  async onlineDevices(accountId: string): Promise<Set<string>> {
    const key = this.options.keys.presence(accountId);
    const all = await this.options.redis.hgetall(key);
    const now = this.now();
    const online = new Set<string>();
    const expired: string[] = [];
    for (const [name, until] of Object.entries(all)) {
      const deviceId = deviceOf(name);
      if (deviceId === undefined || Number(until) <= now) expired.push(name);
      else online.add(deviceId);
    }
    if (expired.length > 0) await this.options.redis.hdel(key, ...expired);
    return online;
  }

  /** Forgets every connection of a device (it was deleted). */
  async forget(accountId: string, deviceId: string): Promise<void> {
    const key = this.options.keys.presence(accountId);
    const names = (await this.options.redis.hkeys(key)).filter((name) => deviceOf(name) === deviceId);
    if (names.length > 0) await this.options.redis.hdel(key, ...names);
  }
}
