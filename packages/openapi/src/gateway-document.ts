import { z } from 'zod';
import { AckSchema, HandshakeAuthSchema, NotificationsPageSchema, NotificationsQuerySchema, SyncedSchema } from '@herald/contracts';
import { LICENSE, OPERATIONS_TAG, SHARED_COMPONENTS, UNREPRESENTABLE, errors, json, operationalPaths, servers } from './common.js';
import type { OpenApiDocument } from './document.js';
import { generateDocument } from './generate-document.js';
import type { DocumentSpec } from './generate-document.js';
import { socketProtocolDescription } from './socket-protocol.js';

const PULL_QUERY_DESCRIPTIONS: Record<keyof typeof NotificationsQuerySchema.shape, string> = {
  after: 'The `cursor` of the previous answer (or of the last notification processed); absent: from the oldest retained.',
  limit: 'At most this many notifications.',
  waitMs: 'Long-poll: wait up to this long for a notification when there is none yet.',
};

/** The pull query as the gateway parses it, each parameter with its description. */
const PullQuerySchema = z.object(
  Object.fromEntries(
    Object.entries(NotificationsQuerySchema.shape).map(([name, schema]) => [
      name,
      schema.meta({ param: { description: PULL_QUERY_DESCRIPTIONS[name as keyof typeof PULL_QUERY_DESCRIPTIONS] } }),
    ]),
  ),
);

function gatewayApiSpec(): DocumentSpec {
  return {
    info: {
      title: 'Herald gateway API',
      version: '1.0.0',
      description: [
        'The device-facing API. Web and TV devices hold a Socket.IO connection and get each notification as it is routed;',
        'mobile devices (and anything that cannot hold a socket) pull the same per-account history over HTTP, optionally long-polling.',
        'Credentials are device tokens (JWT) from `POST /v1/devices` on the ingest API. Errors are `{ "error": { "code", "message", "details"? } }`.',
        '',
        socketProtocolDescription(),
      ].join('\n'),
      license: LICENSE,
    },
    servers: servers('gateway', 3200),
    tags: [{ name: 'notifications', description: 'Pull notifications (mobile devices, and any client without a socket).' }, OPERATIONS_TAG],
    security: [{ deviceToken: [] }],
    components: {
      securitySchemes: {
        deviceToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A device token from `POST /v1/devices` (ingest API).' },
      },
    },
    schemas: [
      ...SHARED_COMPONENTS,
      { name: 'HandshakeAuth', schema: HandshakeAuthSchema, description: 'Socket.IO handshake `auth`.', standalone: 'input' },
      { name: 'Ack', schema: AckSchema, description: 'Socket.IO client → server `ack`.', standalone: 'input' },
      {
        name: 'Synced',
        schema: SyncedSchema,
        description: 'Socket.IO server → client `synced`, after the replay that follows a reconnect.',
        standalone: 'output',
      },
    ],
    unrepresentable: UNREPRESENTABLE,
    paths: {
      '/v1/notifications': {
        get: {
          operationId: 'pullNotifications',
          summary: "Pull the device's notifications",
          description:
            'Only notifications targeted to this device, oldest first; with a `collapseKey`, only the newest of each key. With `waitMs`, long-polls until something arrives or the time is up.',
          tags: ['notifications'],
          requestParams: { query: PullQuerySchema },
          responses: {
            200: {
              description: 'The notifications after `after`, and where to continue.',
              content: json(NotificationsPageSchema),
              headers: z.object({ 'Cache-Control': z.literal('no-store').meta({ header: { description: 'Always `no-store`.' } }) }),
            },
            ...errors('invalid_request', 'unauthorized', 'forbidden', 'internal'),
          },
        },
      },
      ...operationalPaths('gateway'),
    },
  };
}

let document: OpenApiDocument | undefined;

/** The gateway's OpenAPI 3.1 document: generated on first use, then the same frozen object. */
export function gatewayOpenApiDocument(): OpenApiDocument {
  return (document ??= generateDocument(gatewayApiSpec()));
}
