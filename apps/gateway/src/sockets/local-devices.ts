import { GatewayNodeEntrySchema, HeraldError, parseJson } from '@herald/contracts';
import type { GatewayNodeEntry } from '@herald/contracts';
import type { DeviceRegistry, Presence } from '@herald/devices';
import type { Logger } from '@herald/runtime';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { DeviceConnection } from './device-connection.js';

export interface LocalDevicesOptions {
  devices: DeviceRegistry;
  presence: Presence;
  nodeId: string;
  presenceTtlMs: number;
  metrics: GatewayMetrics;
  logger: Logger;
  now: () => number;
  /**
   * Where this node announces its counts (`keys.gatewayNodes`, read by the dashboard's "devices
   * online"). Without it the node keeps its counts to itself.
   */
  nodes?: { redis: RedisClient; keys: KeyBuilder };
}

/**
 * Entries of other nodes older than this are deleted by any live node's heartbeat: a node that
 * crashed never removes its own, and node ids are random per process, so they would pile up.
 * Far past the 30 s presence ttl, so clock skew between nodes never removes a live one.
 */
export const GATEWAY_NODE_FORGET_AFTER_MS = 10 * 60 * 1000;

interface LocalDevice {
  accountId: string;
  deviceId: string;
  /** Usually one; an array costs less than a Set per device. */
  connections: DeviceConnection[];
}

/** Requests in flight at once during a heartbeat (they pipeline on one connection). */
const HEARTBEAT_CONCURRENCY = 500;

/**
 * The devices this node holds, with their sockets. Presence has one field per (device, node),
 * so several sockets of one device here are counted locally: the device is marked online with
 * the first and offline with the last. Heartbeats refresh presence (a crashed node's devices
 * fall offline when the ttl passes) and re-check each device's token, disconnecting a device
 * that was deleted (or whose token expired) since it connected.
 */
export class LocalDevices {
  private readonly byDevice = new Map<string, LocalDevice>();
  /** Sockets this node holds (a device may have several). */
  private connectionCount = 0;

  constructor(private readonly options: LocalDevicesOptions) {}

  get size(): number {
    return this.byDevice.size;
  }

  async add(connection: DeviceConnection): Promise<void> {
    const { accountId, deviceId } = connection.device;
    const key = JSON.stringify([accountId, deviceId]);
    let device = this.byDevice.get(key);
    const first = device === undefined;
    if (device === undefined) {
      device = { accountId, deviceId, connections: [] };
      this.byDevice.set(key, device);
      this.options.metrics.devices.inc();
    }
    device.connections.push(connection);
    this.connectionCount++;
    if (first) await this.markOnline(device);
  }

  async remove(connection: DeviceConnection): Promise<void> {
    const { accountId, deviceId } = connection.device;
    const key = JSON.stringify([accountId, deviceId]);
    const device = this.byDevice.get(key);
    const index = device?.connections.indexOf(connection) ?? -1;
    if (device === undefined || index < 0) return;
    device.connections.splice(index, 1);
    this.connectionCount--;
    if (device.connections.length > 0) return;
    this.byDevice.delete(key);
    this.options.metrics.devices.dec();
    await this.options.presence.markOffline(accountId, deviceId, this.options.nodeId);
  }

  /**
   * Re-checks every device's registration and tokens, refreshes its presence, then announces
   * this node's counts. Resolves true when every device's presence was refreshed.
   */
  async heartbeat(): Promise<boolean> {
    const devices = [...this.byDevice.values()];
    let refreshed = true;
    for (let i = 0; i < devices.length; i += HEARTBEAT_CONCURRENCY) {
      const results = await Promise.all(devices.slice(i, i + HEARTBEAT_CONCURRENCY).map((device) => this.refresh(device)));
      refreshed &&= results.every(Boolean);
    }
    await this.announce().catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'heartbeat: announcing the node failed');
    });
    return refreshed;
  }

  /** Marks every device of this node offline and withdraws the node's entry (shutting down). */
  async clear(): Promise<void> {
    const devices = [...this.byDevice.values()];
    this.byDevice.clear();
    this.connectionCount = 0;
    this.options.metrics.devices.set(0);
    for (let i = 0; i < devices.length; i += HEARTBEAT_CONCURRENCY) {
      const batch = devices.slice(i, i + HEARTBEAT_CONCURRENCY);
      await Promise.all(batch.map((device) => this.options.presence.markOffline(device.accountId, device.deviceId, this.options.nodeId)));
    }
    const { nodes, nodeId } = this.options;
    if (nodes !== undefined) await nodes.redis.hdel(nodes.keys.gatewayNodes, nodeId);
  }

  /**
   * Writes this node's entry in `keys.gatewayNodes` and deletes other nodes' entries that have
   * not been refreshed for GATEWAY_NODE_FORGET_AFTER_MS (crashed nodes). One small hash for
   * the whole cluster: HGETALL of it stays cheap.
   */
  private async announce(): Promise<void> {
    const { nodes, nodeId, now } = this.options;
    if (nodes === undefined) return;
    const key = nodes.keys.gatewayNodes;
    const at = now();
    const entry: GatewayNodeEntry = { connections: this.connectionCount, devices: this.byDevice.size, at };
    await nodes.redis.hset(key, nodeId, JSON.stringify(entry));
    const forgotten = Object.entries(await nodes.redis.hgetall(key))
      .filter(([id, raw]) => id !== nodeId && !(entryTime(raw) > at - GATEWAY_NODE_FORGET_AFTER_MS))
      .map(([id]) => id);
    if (forgotten.length > 0) await nodes.redis.hdel(key, ...forgotten);
  }

  /**
   * The token of each socket was verified at its handshake; what can change since is the
   * registration (deleted, or deleted and registered anew: another credential) and the clock.
   * Checking those needs one HGET, not a signature check per socket.
   */
  /** Resolves false when the device's presence could not be refreshed. */
  private async refresh(device: LocalDevice): Promise<boolean> {
    try {
      const record = await this.options.devices.get(device.accountId, device.deviceId);
      const now = this.options.now();
      for (const connection of [...device.connections]) {
        const { credentialId, expiresAt } = connection.socket.data;
        if (record === undefined || record.credentialId !== credentialId)
          connection.refuse(new HeraldError('unauthorized', 'The device token has been revoked.'));
        else if (expiresAt <= now) connection.refuse(new HeraldError('unauthorized', 'The device token has expired.'));
      }
    } catch (error) {
      this.options.logger.warn({ err: error, accountId: device.accountId, deviceId: device.deviceId }, 'heartbeat: registration check failed');
    }
    // The device may have left meanwhile (or just been refused): then it was marked offline already.
    if (this.byDevice.get(JSON.stringify([device.accountId, device.deviceId])) !== device) return true;
    return this.markOnline(device).then(
      () => true,
      (error: unknown) => {
        this.options.logger.warn({ err: error, accountId: device.accountId, deviceId: device.deviceId }, 'heartbeat: presence refresh failed');
        return false;
      },
    );
  }

  private markOnline(device: LocalDevice): Promise<void> {
    const { presence, nodeId, presenceTtlMs } = this.options;
    return presence.markOnline(device.accountId, device.deviceId, nodeId, presenceTtlMs);
  }
}

/** When a node entry was written; NaN for an entry that is not one (it is forgotten too). */
function entryTime(raw: string): number {
  const parsed = GatewayNodeEntrySchema.safeParse(parseJson(raw));
  return parsed.success ? parsed.data.at : Number.NaN;
}
