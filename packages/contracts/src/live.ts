import { z } from 'zod';
import { AccountIdSchema, DeviceIdSchema } from './identifiers.js';
import { NotificationSchema } from './notification.js';

/**
 * One live push from the worker's `web`/`tv` delivery to the gateway nodes: a notification
 * and the devices of its account that are to get it now.
 */
export const LivePushSchema = z
  .object({
    accountId: AccountIdSchema,
    deviceIds: z.array(DeviceIdSchema).min(1),
    notification: NotificationSchema,
  })
  .refine((push) => push.notification.accountId === push.accountId, { message: "a push goes to devices of the notification's own account" });
export type LivePush = z.infer<typeof LivePushSchema>;

/**
 * A message on a live channel (`keys.liveChannel(priority)`): pushes in the order they are to
 * be sent. One message carries many pushes, so a batch costs one Redis PUBLISH and one decode
 * per gateway node instead of one of each per notification (the Socket.IO emitter's way).
 */
export const LiveBatchSchema = z.array(LivePushSchema).min(1);

/** Most pushes in one live message: a gateway decodes a message in one go, so it stays short. */
export const LIVE_PUSHES_PER_MESSAGE = 100;

/**
 * A LivePush as JSON, around a notification that is JSON already: the router serializes each
 * notification once and no later step parses it again before the gateway.
 */
export function encodeLivePush(accountId: string, deviceIds: readonly string[], notificationJson: string): string {
  return `{"accountId":${JSON.stringify(accountId)},"deviceIds":${JSON.stringify(deviceIds)},"notification":${notificationJson}}`;
}

/** Live messages for pushes encoded by `encodeLivePush`, at most LIVE_PUSHES_PER_MESSAGE each, in order. */
export function encodeLiveBatches(pushes: readonly string[]): string[] {
  const messages: string[] = [];
  for (let i = 0; i < pushes.length; i += LIVE_PUSHES_PER_MESSAGE) messages.push(`[${pushes.slice(i, i + LIVE_PUSHES_PER_MESSAGE).join(',')}]`);
  return messages;
}
