import type { z } from 'zod';
import { AckSchema, ApiErrorSchema, HandshakeAuthSchema, NotificationSchema, SyncedSchema } from '@herald/contracts';

/** `{ a, b? }`: the fields of an object schema, optional ones marked, as the contract writes them. */
function fields(schema: z.ZodObject): string {
  const names = Object.entries(schema.shape).map(([name, field]) => (field.safeParse(undefined).success ? `${name}?` : name));
  return `{ ${names.join(', ')} }`;
}

/**
 * The Socket.IO protocol in words, for the gateway document's `info.description`: OpenAPI cannot
 * model a socket. The payload shapes are read off the contract's schemas (and documented in full
 * under `components.schemas`), so the text follows them.
 */
export function socketProtocolDescription(): string {
  const error = fields(ApiErrorSchema);
  return [
    '## Socket.IO (web and TV)',
    '',
    'OpenAPI cannot describe a socket, so here in words; the payloads are under `components.schemas`. Details: docs/gateway.md.',
    '',
    `Connect with Socket.IO 4 to this port, path \`/socket.io/\`, with \`auth: ${fields(HandshakeAuthSchema)}\` (\`HandshakeAuth\`):`,
    'the device token from `POST /v1/devices`, and the last cursor the device processed, if any.',
    `A refused handshake gets \`connect_error\` whose \`data\` is \`${error}\` (\`unauthorized\`, \`forbidden\`, \`invalid_request\`, \`unavailable\`).`,
    '',
    '| direction | event | payload |',
    '| --- | --- | --- |',
    `| server → client | \`notification\` | \`${fields(NotificationSchema)}\` (\`Notification\`), with an ack callback |`,
    `| server → client | \`synced\` | \`${fields(SyncedSchema)}\` (\`Synced\`): once per connection, after replaying what the device missed since \`cursor\`; \`reset: true\` means the cursor is older than the retained history: refresh in full |`,
    '| server → client | `reconnect_requested` | `{ reason }`: the transport closes next; the client reconnects (with its cursor) |',
    `| server → client | \`error\` | \`{ code, message }\`: \`rate_limited\`, \`invalid_request\` (a bad ack without callback), \`unauthorized\` (revoked or expired; then disconnected) |`,
    `| client → server | \`ack\` | \`${fields(AckSchema)}\` (\`Ack\`), or call the notification's ack callback; an ack callback is answered \`{ ok: true }\` or \`{ ok: false, error: ${error} }\` |`,
    '',
    'Devices that cannot hold a socket (iOS, Android) pull the same notifications with `GET /v1/notifications`.',
  ].join('\n');
}
