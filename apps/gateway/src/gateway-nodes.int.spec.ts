import { expect } from 'chai';
import { DeviceRegistry, DeviceTokens, Presence } from '@herald/devices';
import { createLogger, createMetricsRegistry } from '@herald/runtime';
import { createKeys } from '@herald/redis';
import type { KeyBuilder } from '@herald/redis';
import { useTestRedis } from '@herald/testing';
import { createGatewayMetrics } from './gateway-metrics.js';
import type { DeviceConnection } from './sockets/device-connection.js';
import { GatewayNodeEntrySchema } from '@herald/contracts';
import { GATEWAY_NODE_FORGET_AFTER_MS, LocalDevices } from './sockets/local-devices.js';

/**
 * The node entry the dashboard's "devices online" sums. LocalDevices only reads a connection's
 * device, its token facts and `refuse`, so these tests hand it stand-ins for sockets.
 */
describe('gateway node entries (keys.gatewayNodes)', () => {
  const redis = useTestRedis();
  let keys: KeyBuilder;
  let registry: DeviceRegistry;
  let clock: number;

  beforeEach(() => {
    keys = createKeys(redis.prefix);
    registry = new DeviceRegistry({ redis: redis.client, keys, tokens: new DeviceTokens({ secret: 'x'.repeat(32), ttlSeconds: 3600 }) });
    clock = 1_800_000_000_000;
  });

  const localDevices = (nodeId: string) =>
    new LocalDevices({
      devices: registry,
      presence: new Presence({ redis: redis.client, keys }),
      nodeId,
      presenceTtlMs: 30_000,
      metrics: createGatewayMetrics(createMetricsRegistry('gateway')),
      logger: createLogger({ app: 'gateway', level: 'silent' }),
      now: () => clock,
      nodes: { redis: redis.client, keys },
    });

  async function connection(accountId: string, deviceId: string): Promise<DeviceConnection> {
    const { device } = await registry.register({ accountId, deviceId, platform: 'web' });
    const standIn = {
      device: { accountId, deviceId, platform: 'web' },
      socket: { data: { credentialId: device.credentialId, expiresAt: clock + 3_600_000 } },
      refuse: () => undefined,
    };
    return standIn as unknown as DeviceConnection;
  }

  async function entryOf(nodeId: string) {
    const raw = await redis.client.hget(keys.gatewayNodes, nodeId);
    return raw === null ? undefined : GatewayNodeEntrySchema.parse(JSON.parse(raw));
  }

  it('announces its connections and distinct devices at each heartbeat', async () => {
    const node = localDevices('node-a');
    const first = await connection('acct-1', 'web-1');
    await node.add(first);
    await node.add(await connection('acct-1', 'web-1'));
    await node.add(await connection('acct-2', 'tv-1'));
    await node.heartbeat();
    expect(await entryOf('node-a')).to.deep.equal({ connections: 3, devices: 2, at: clock });

    await node.remove(first);
    clock += 10_000;
    await node.heartbeat();
    expect(await entryOf('node-a')).to.deep.equal({ connections: 2, devices: 2, at: clock });
  });

  it('withdraws its entry when the node shuts down', async () => {
    const node = localDevices('node-a');
    await node.add(await connection('acct-1', 'web-1'));
    await node.heartbeat();
    await node.clear();
    expect(await entryOf('node-a')).to.equal(undefined);
  });

  it('forgets entries of nodes that stopped long ago, and keeps recent ones', async () => {
    const crashed = JSON.stringify({ connections: 5, devices: 5, at: clock - GATEWAY_NODE_FORGET_AFTER_MS - 1 });
    const quiet = JSON.stringify({ connections: 1, devices: 1, at: clock - 60_000 });
    await redis.client.hset(keys.gatewayNodes, 'crashed', crashed, 'quiet', quiet, 'garbage', 'not json');
    await localDevices('node-a').heartbeat();
    expect((await redis.client.hkeys(keys.gatewayNodes)).sort()).to.deep.equal(['node-a', 'quiet']);
  });
});
