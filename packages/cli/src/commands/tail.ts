import { z } from 'zod';
import { HeraldClientError, HeraldDevice, HeraldPublisher, MemoryCursorStorage } from '@herald/client';
import { AccountIdSchema, ProfileIdSchema } from '@herald/contracts';
import { EXIT, parseOptions } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { describeError } from '../output.js';
import type { Settings } from '../settings.js';

const TailArgsSchema = z.object({
  accountId: AccountIdSchema,
  platform: z.enum(['web', 'tv']).default('web'),
  profile: ProfileIdSchema.optional(),
});

/** A short random suffix: tail devices of several terminals never collide. */
function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 10).padEnd(8, '0');
}

/**
 * `herald tail <accountId> [--platform web|tv] [--profile <id>]`: registers a temporary device
 * (`cli-tail-<random>`), connects it to the gateway and prints each notification as one JSON
 * line on stdout (status goes to stderr, so stdout pipes cleanly into `jq`). The device is
 * deleted again on Ctrl-C, SIGTERM, SIGHUP, a closed stdout or a fatal error. Resolves with the
 * exit code.
 */
export async function tailCommand(accountId: string, rawOptions: unknown, settings: Settings, io: CliIo): Promise<number> {
  const options = parseOptions(TailArgsSchema, { accountId, ...(rawOptions as object) }, { accountId: '<accountId>' });
  const publisher = new HeraldPublisher({ url: settings.ingestUrl, serviceKey: settings.serviceKey, maxRetries: 2 });
  const deviceId = `cli-tail-${randomSuffix()}`;
  const { token } = await publisher.registerDevice({
    accountId: options.accountId,
    platform: options.platform,
    deviceId,
    ...(options.profile === undefined ? {} : { profileId: options.profile }),
  });

  const device = new HeraldDevice({ url: settings.gatewayUrl, token, storage: new MemoryCursorStorage(), autoConnect: false });
  let stopping = false;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => {
    finish = (code) => {
      if (stopping) return;
      stopping = true;
      resolve(code);
    };
  });

  let syncedOnce = false;
  device.on('notification', (notification) => {
    io.stdout.write(`${JSON.stringify(notification)}\n`);
  });
  device.on('synced', ({ replayed, reset }) => {
    if (!syncedOnce) {
      syncedOnce = true;
      io.stderr.write(`Tailing account ${options.accountId} as device ${deviceId} (${options.platform}). Ctrl-C to stop.\n`);
    } else {
      io.stderr.write(`Reconnected${reset ? ' (history reset)' : ''}; ${replayed} missed notification(s) replayed.\n`);
    }
  });
  device.on('disconnected', (reason) => {
    if (!stopping) io.stderr.write(`Disconnected (${reason}); reconnecting…\n`);
  });
  device.on('error', (error: HeraldClientError) => {
    if (stopping) return;
    io.stderr.write(describeError(error, { service: 'gateway', url: settings.gatewayUrl }));
    if (error.fatal) finish(EXIT.failed);
  });
  const stopListening = io.onInterrupt(() => finish(EXIT.ok));

  await device.connect();
  const code = await finished;
  stopListening();
  await device.close();
  try {
    await publisher.removeDevice(options.accountId, deviceId);
  } catch (error) {
    // Already gone (someone deleted it, which is also why a tail stops with `unauthorized`) is fine.
    if (!(error instanceof HeraldClientError && error.code === 'not_found')) {
      io.stderr.write(`Could not delete the temporary device ${deviceId}:\n${describeError(error, { service: 'ingest', url: settings.ingestUrl })}`);
      return EXIT.failed;
    }
  }
  return code;
}
