import { z } from 'zod';
import { HeraldPublisher } from '@herald/client';
import { AccountIdSchema } from '@herald/contracts';
import { parseOptions } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { table } from '../output.js';
import type { Settings } from '../settings.js';

const DevicesArgsSchema = z.object({ accountId: AccountIdSchema, json: z.boolean().optional() });

/** `herald devices <accountId> [--json]`: the account's devices, with presence. */
export async function devicesCommand(accountId: string, rawOptions: { json?: boolean }, settings: Settings, io: CliIo): Promise<void> {
  const { json } = parseOptions(DevicesArgsSchema, { accountId, ...rawOptions }, { accountId: '<accountId>' });
  const publisher = new HeraldPublisher({ url: settings.ingestUrl, serviceKey: settings.serviceKey, maxRetries: 2 });
  const devices = await publisher.listDevices(accountId);
  if (json === true) {
    io.stdout.write(`${JSON.stringify({ devices }, null, 2)}\n`);
    return;
  }
  if (devices.length === 0) {
    io.stdout.write(`Account ${accountId} has no devices.\n`);
    return;
  }
  const rows = devices.map((device) => [device.deviceId, device.platform, device.profileId ?? '-', device.online ? 'yes' : 'no', device.lastSeenAt]);
  io.stdout.write(table(['DEVICE', 'PLATFORM', 'PROFILE', 'ONLINE', 'LAST SEEN'], rows));
}
