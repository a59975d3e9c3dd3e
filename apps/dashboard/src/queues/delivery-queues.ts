import { Queue } from 'bullmq';
import type { ConnectionOptions } from 'bullmq';
import { PLATFORMS, PRIORITIES } from '@herald/contracts';
import type { Platform, Priority } from '@herald/contracts';
import type { KeyBuilder } from '@herald/redis';

/** One of the worker's BullMQ delivery queues, as the dashboard watches it. */
export interface DeliveryQueue {
  platform: Platform;
  priority: Priority;
  queue: Queue;
}

/**
 * Handles on every delivery queue (each platform × priority: 12), named and prefixed exactly as
 * the worker names them (`keys.deliveryQueue`, each with its own `keys.queuePrefix`). A Queue only reads and
 * changes jobs; nothing here processes them.
 */
export function createDeliveryQueues(connection: ConnectionOptions, keys: KeyBuilder): DeliveryQueue[] {
  return PRIORITIES.flatMap((priority) =>
    PLATFORMS.map((platform) => ({
      platform,
      priority,
      queue: new Queue(keys.deliveryQueue(platform, priority), { connection, prefix: keys.queuePrefix(platform, priority) }),
    })),
  );
}
