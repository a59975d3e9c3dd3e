import { randomUUID } from 'node:crypto';
import { DeviceRecordSchema, HeraldError } from '@herald/contracts';
import type { DeviceIdentity, DeviceRecord, RegisterDevice } from '@herald/contracts';
import { RedisScript, assertWellFormedId } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';
import type { DeviceTokens } from './device-tokens.js';
import { Presence } from './presence.js';

const touchDevice = RedisScript.fromFile(new URL('../lua/', import.meta.url), 'touch-device-1');

export interface DeviceRegistryOptions {
  redis: RedisClient;
  keys: KeyBuilder;
  tokens: DeviceTokens;
  /** Registrations one account may hold (default 100); one more is refused with 409. */
  maxDevicesPerAccount?: number;
  now?: () => number;
}

export interface DeviceView {
  deviceId: string;
  platform: DeviceRecord['platform'];
  profileId: string | null;
  online: boolean;
  lastSeenAt: string;
  /** Whether the device has a push token: false once a push provider reported it dead, until the device registers a new one. */
  hasPushToken: boolean;
}

/**
 * The registry of devices, one Redis hash per account (deviceId → record). Every token check
 * reads it, so deleting a device revokes its tokens at once.
 */
export class DeviceRegistry {
  private readonly maxDevices: number;
  private readonly now: () => number;
  private readonly presence: Presence;

  constructor(private readonly options: DeviceRegistryOptions) {
    this.maxDevices = options.maxDevicesPerAccount ?? 100;
    if (!Number.isInteger(this.maxDevices) || this.maxDevices < 1) throw new RangeError('maxDevicesPerAccount must be a positive integer');
    this.now = options.now ?? Date.now;
    this.presence = new Presence({ redis: options.redis, keys: options.keys, now: this.now });
  }

  /**
   * Registers a device, or updates it when the id is known (keeping its credential, so tokens
   * issued before stay valid). Returns the record and a fresh token.
   */
  async register(input: RegisterDevice): Promise<{ device: DeviceRecord; token: string }> {
    const { redis, keys, tokens } = this.options;
    const key = keys.devices(input.accountId);
    const deviceId = assertWellFormedId(input.deviceId ?? randomUUID());
    const existing = await this.get(input.accountId, deviceId);
    if (existing === undefined && (await redis.hlen(key)) >= this.maxDevices) {
      throw new HeraldError('conflict', `Account ${input.accountId} already has ${this.maxDevices} devices; delete one first.`);
    }
    const now = this.now();
    const device: DeviceRecord = {
      deviceId,
      accountId: input.accountId,
      platform: input.platform,
      ...(input.profileId === undefined ? {} : { profileId: input.profileId }),
      ...(input.pushToken === undefined ? {} : { pushToken: input.pushToken }),
      credentialId: existing?.credentialId ?? randomUUID(),
      registeredAt: existing?.registeredAt ?? now,
      lastSeenAt: now,
    };
    await redis.hset(key, deviceId, JSON.stringify(device));
    return { device, token: await tokens.sign(device, device.credentialId) };
  }

  async get(accountId: string, deviceId: string): Promise<DeviceRecord | undefined> {
    const raw = await this.options.redis.hget(this.options.keys.devices(accountId), assertWellFormedId(deviceId));
    return raw === null ? undefined : DeviceRecordSchema.parse(JSON.parse(raw));
  }

  async list(accountId: string): Promise<DeviceRecord[]> {
    const all = await this.options.redis.hgetall(this.options.keys.devices(accountId));
    return Object.values(all)
      .map((raw) => DeviceRecordSchema.parse(JSON.parse(raw)))
      .sort((a, b) => a.registeredAt - b.registeredAt || a.deviceId.localeCompare(b.deviceId));
  }

  /** The account's devices as the API shows them, with presence from the gateways. */
  async view(accountId: string): Promise<DeviceView[]> {
    const [devices, online] = await Promise.all([this.list(accountId), this.presence.onlineDevices(accountId)]);
    return devices.map((device) => ({
      deviceId: device.deviceId,
      platform: device.platform,
      profileId: device.profileId ?? null,
      online: online.has(device.deviceId),
      lastSeenAt: new Date(device.lastSeenAt).toISOString(),
      hasPushToken: device.pushToken !== undefined,
    }));
  }

  /**
   * Records that the device was seen now (a gateway connection, a pull). Best effort: when the
   * record changes in between (a registration, a delete) nothing is written, so a deleted
   * device is never brought back.
   */
  async touch(accountId: string, deviceId: string): Promise<void> {
    const { redis, keys } = this.options;
    const key = keys.devices(accountId);
    const raw = await redis.hget(key, assertWellFormedId(deviceId));
    if (raw === null) return;
    const device = DeviceRecordSchema.parse(JSON.parse(raw));
    await touchDevice.run(redis, [key], [deviceId, raw, JSON.stringify({ ...device, lastSeenAt: this.now() })]);
  }

  /**
   * Drops a device's push token that its push provider reported dead (unregistered, malformed),
   * so no later signal is sent to it; the device gets a token again by registering with one.
   * A compare-and-set: only when `pushToken` is still the registered token, so a token the
   * device registered meanwhile is kept. True when it was dropped.
   */
  async dropPushToken(accountId: string, deviceId: string, pushToken: string): Promise<boolean> {
    const { redis, keys } = this.options;
    const key = keys.devices(accountId);
    // The record may change between the read and the write for other reasons (a gateway's
    // lastSeenAt refresh): read again then, a few times; each round is one write at most.
    for (let round = 0; round < 5; round++) {
      const raw = await redis.hget(key, deviceId);
      if (raw === null) return false;
      const { pushToken: current, ...rest } = DeviceRecordSchema.parse(JSON.parse(raw));
      if (current !== pushToken) return false;
      if ((await touchDevice.run(redis, [key], [deviceId, raw, JSON.stringify(rest)])) === 1) return true;
    }
    return false;
  }

  /** Deletes a device; its tokens stop working at once. False when it was not registered. */
  async remove(accountId: string, deviceId: string): Promise<boolean> {
    const { redis, keys } = this.options;
    const removed = await redis.hdel(keys.devices(accountId), assertWellFormedId(deviceId));
    await this.presence.forget(accountId, deviceId);
    return removed === 1;
  }

  /**
   * Verifies a device token and that its registration still stands: the check every gateway
   * and pull request makes. Throws `unauthorized` saying why not. `credentialId` lets a holder of
   * a long-lived connection re-check the registration later without verifying the token again.
   */
  async authenticate(token: string): Promise<DeviceIdentity & { expiresAt: number; credentialId: string }> {
    const verified = await this.options.tokens.verify(token);
    const device = await this.get(verified.accountId, verified.deviceId);
    if (device === undefined || device.credentialId !== verified.credentialId) {
      throw new HeraldError('unauthorized', 'The device token has been revoked.');
    }
    // The registry, not the token, is authoritative for platform and profile (they may change).
    return {
      accountId: device.accountId,
      deviceId: device.deviceId,
      platform: device.platform,
      ...(device.profileId === undefined ? {} : { profileId: device.profileId }),
      expiresAt: verified.expiresAt,
      credentialId: device.credentialId,
    };
  }
}
