import { HeraldPublisher } from '@herald/client';
import type { CliIo } from '../io.js';
import { table } from '../output.js';
import type { Settings } from '../settings.js';

/** `herald event-types [--json]`: the event catalog. */
export async function eventTypesCommand(options: { json?: boolean }, settings: Settings, io: CliIo): Promise<void> {
  const publisher = new HeraldPublisher({ url: settings.ingestUrl, serviceKey: settings.serviceKey, maxRetries: 2 });
  const types = await publisher.eventTypes();
  if (options.json === true) {
    io.stdout.write(`${JSON.stringify({ eventTypes: types }, null, 2)}\n`);
    return;
  }
  const rows = types.map((type) => [
    type.type,
    type.priority,
    `${type.staleAfterMs / 1000}s`,
    type.platforms.join(','),
    type.collapse === undefined ? '-' : `by ${type.collapse.by}`,
    type.description ?? '',
  ]);
  io.stdout.write(table(['TYPE', 'PRIORITY', 'STALE AFTER', 'PLATFORMS', 'COLLAPSE', 'DESCRIPTION'], rows));
}
