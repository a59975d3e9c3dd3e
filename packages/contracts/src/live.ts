import { z } from 'zod';
import { AccountIdSchema, DeviceIdSchema } from './identifiers.js';
import { CursorSchema, NotificationSchema } from './notification.js';

/**
 * One live push from the worker's `web`/`tv` delivery to the gateway nodes: a notification,
 * the devices of its account that are to get it now, and `prev`, the cursor of the entry just
 * before it in the account's history (null: none before it; absent: not known, as for an event
 * whose append was a retry). A gateway that has delivered a device everything up to `prev`
 * can send the push at once; otherwise it reads the gap from history first.
 */
export const LivePushSchema = z
  .object({
    accountId: AccountIdSchema,
    deviceIds: z.array(DeviceIdSchema).min(1),
    prev: CursorSchema.nullable().optional(),
    notification: NotificationSchema,
  })
  .refine((push) => push.notification.accountId === push.accountId, { message: "a push goes to devices of the notification's own account" });
export type LivePush = z.infer<typeof LivePushSchema>;

/**
 * Where a gateway records what it sent of one live message: the field `field` of the trace
 * hash `key` (the router batch's), one field per message, to which every gateway node appends
 * the pushes it sent (see @herald/trace's `traceField.liveSent`).
 */
export const LiveTraceSchema = z.object({ key: z.string().min(1), field: z.string().min(1) });
export type LiveTrace = z.infer<typeof LiveTraceSchema>;

/**
 * A live message (an entry of a partition's live stream, `keys.liveStream`): pushes in the
 * order they are to be sent, and `trace`, where a gateway records what it sent of them (absent
 * when tracing is off), in one write per message. One message carries many pushes, so a batch
 * costs one append and one decode per gateway node instead of one of each per notification.
 */
export const LiveMessageSchema = z.object({
  trace: LiveTraceSchema.optional(),
  pushes: z.array(LivePushSchema).min(1),
});
export type LiveMessage = z.infer<typeof LiveMessageSchema>;

/** Most pushes in one live message: a gateway decodes a message in one go, so it stays short. */
export const LIVE_PUSHES_PER_MESSAGE = 100;

/**
 * A LivePush as JSON, around a notification that is JSON already: the router serializes each
 * notification once and no later step parses it again before the gateway.
 */
export function encodeLivePush(accountId: string, deviceIds: readonly string[], prev: string | null | undefined, notificationJson: string): string {
  const previous = prev === undefined ? '' : `"prev":${JSON.stringify(prev)},`;
  return `{"accountId":${JSON.stringify(accountId)},"deviceIds":${JSON.stringify(deviceIds)},${previous}"notification":${notificationJson}}`;
}

/** Where the `n`-th push of a job's pushes lands: its message's index and its index in that message. */
export function livePushPosition(n: number): [message: number, index: number] {
  return [Math.floor(n / LIVE_PUSHES_PER_MESSAGE), n % LIVE_PUSHES_PER_MESSAGE];
}

/**
 * Live messages for pushes encoded by `encodeLivePush`, at most LIVE_PUSHES_PER_MESSAGE each, in
 * order (see `livePushPosition`). `trace`: the trace hash, and the field of each message in it.
 */
export function encodeLiveMessages(pushes: readonly string[], trace?: { key: string; field: (message: number) => string }): string[] {
  const messages: string[] = [];
  for (let i = 0; i < pushes.length; i += LIVE_PUSHES_PER_MESSAGE) {
    const head = trace === undefined ? '{"pushes":[' : `{"trace":${JSON.stringify({ key: trace.key, field: trace.field(messages.length) })},"pushes":[`;
    messages.push(`${head}${pushes.slice(i, i + LIVE_PUSHES_PER_MESSAGE).join(',')}]}`);
  }
  return messages;
}
