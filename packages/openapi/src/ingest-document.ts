import { z } from 'zod';
import {
  AcceptResultSchema,
  AccountPathSchema,
  BatchResultSchema,
  DeviceListSchema,
  DevicePathSchema,
  EventInputSchema,
  EventPathSchema,
  EventTraceSchema,
  EventTypeListSchema,
  MAX_BATCH_EVENTS,
  RegisterDeviceResultSchema,
  RegisterDeviceSchema,
} from '@herald/contracts';
import { LICENSE, OPERATIONS_TAG, SHARED_COMPONENTS, UNREPRESENTABLE, errors, json, operationalPaths, retryAfter, servers } from './common.js';
import type { OpenApiDocument } from './document.js';
import { generateDocument } from './generate-document.js';
import type { DocumentSpec } from './generate-document.js';

/**
 * What `POST /v1/events/batch` takes. The route checks only the envelope and then each item on
 * its own (an invalid item is reported in its result, not as a 400), but what a client should
 * send is events.
 */
const EventBatchInputSchema = z.object({ events: z.array(EventInputSchema).min(1).max(MAX_BATCH_EVENTS) }).strict();

const EXAMPLE_EVENT = { id: 'plan-7f3a', type: 'plan.changed', accountId: 'acct-1', payload: { plan: 'premium' } };

const BODY_ERRORS = ['invalid_request', 'unauthorized', 'payload_too_large', 'unsupported_media_type'] as const;

function ingestApiSpec(): DocumentSpec {
  return {
    info: {
      title: 'Herald ingest API',
      version: '1.0.0',
      description: [
        'The service-facing API: services report changes as events; Herald turns each into notifications for the devices of the account.',
        '',
        'Every `/v1` endpoint needs `Authorization: Bearer <service key>` (`HERALD_SERVICE_KEYS`; `dev-service-key` in development).',
        'Errors are always `{ "error": { "code", "message", "details"? } }` (`ErrorBody`); a validation error is 400 `invalid_request`',
        'with one `details` item per problem, never a 500. Too much backlog on a priority answers 429 with `Retry-After`, for that priority only;',
        'so does an overloaded Herald for the priorities it sheds (`overloaded`: low first, then medium; high priority is never shed).',
      ].join('\n'),
      license: LICENSE,
    },
    servers: servers('ingest', 3100),
    tags: [
      { name: 'events', description: 'Submit events and follow them.' },
      { name: 'devices', description: 'The device registry: register devices, list them with presence, delete them.' },
      { name: 'catalog', description: 'The event types Herald knows.' },
      OPERATIONS_TAG,
    ],
    security: [{ serviceKey: [] }],
    components: {
      securitySchemes: { serviceKey: { type: 'http', scheme: 'bearer', description: 'A service key of `HERALD_SERVICE_KEYS`.' } },
    },
    schemas: [...SHARED_COMPONENTS, { name: 'EventBatchInput', schema: EventBatchInputSchema }],
    unrepresentable: UNREPRESENTABLE,
    paths: {
      '/v1/events': {
        post: {
          operationId: 'sendEvent',
          summary: 'Submit one event',
          description: 'At most 64 KiB. The same `id` again within the dedup window answers `duplicate` and writes nothing.',
          tags: ['events'],
          requestBody: { description: 'The event.', required: true, content: { 'application/json': { schema: EventInputSchema, example: EXAMPLE_EVENT } } },
          responses: {
            202: { description: 'Accepted (or a duplicate of an event accepted before).', content: json(AcceptResultSchema) },
            ...errors(...BODY_ERRORS, 'backlog_exceeded', 'internal'),
          },
        },
      },
      '/v1/events/batch': {
        post: {
          operationId: 'sendEventBatch',
          summary: 'Submit up to 1000 events',
          description:
            'At most 10 MiB. Each item is validated and accepted on its own, like SQS SendMessageBatch: valid items are accepted, invalid ones reported in their result.',
          tags: ['events'],
          requestBody: {
            description: 'The events, 1..1000.',
            required: true,
            content: { 'application/json': { schema: EventBatchInputSchema, example: { events: [EXAMPLE_EVENT] } } },
          },
          responses: {
            202: {
              description: 'One result per item. When some items were refused for backlog or shed (`overloaded`), `Retry-After` says when to send those again.',
              content: json(BatchResultSchema),
              headers: retryAfter(false, 'Seconds before the refused items may be sent again.'),
            },
            429: {
              description: '`backlog_exceeded` or `overloaded` for every item: each result carries the error; `Retry-After` says when to send them again.',
              content: json(BatchResultSchema),
              headers: retryAfter(true, 'Seconds before the items may be sent again.'),
            },
            ...errors(...BODY_ERRORS, 'internal'),
          },
        },
      },
      '/v1/events/{id}': {
        get: {
          operationId: 'getEventTrace',
          summary: "An event's trace",
          description: 'When it was accepted, its priority, each gate of the router and its verdict, the devices it was pushed to and which acknowledged it.',
          tags: ['events'],
          requestParams: { path: EventPathSchema },
          responses: {
            200: { description: 'The trace.', content: json(EventTraceSchema) },
            ...errors('invalid_request', 'unauthorized', 'not_found', 'internal'),
          },
        },
      },
      '/v1/event-types': {
        get: {
          operationId: 'listEventTypes',
          summary: 'The event catalog',
          tags: ['catalog'],
          responses: { 200: { description: 'Every event type.', content: json(EventTypeListSchema) }, ...errors('unauthorized', 'internal') },
        },
      },
      '/v1/devices': {
        post: {
          operationId: 'registerDevice',
          summary: 'Register a device',
          description: 'At most 16 KiB. Answers the device id and a token: the device credential (JWT) for the gateway.',
          tags: ['devices'],
          requestBody: {
            description: 'The device.',
            required: true,
            content: { 'application/json': { schema: RegisterDeviceSchema, example: { accountId: 'acct-1', platform: 'tv' } } },
          },
          responses: {
            201: { description: 'Registered (or updated).', content: json(RegisterDeviceResultSchema) },
            ...errors(...BODY_ERRORS, 'conflict', 'internal'),
          },
        },
      },
      '/v1/accounts/{accountId}/devices': {
        get: {
          operationId: 'listDevices',
          summary: "An account's devices",
          description: 'Each with its presence (`online`: connected to a gateway now) and when it was last seen.',
          tags: ['devices'],
          requestParams: { path: AccountPathSchema },
          responses: {
            200: { description: 'The devices, oldest registration first.', content: json(DeviceListSchema) },
            ...errors('invalid_request', 'unauthorized', 'internal'),
          },
        },
      },
      '/v1/accounts/{accountId}/devices/{deviceId}': {
        delete: {
          operationId: 'deleteDevice',
          summary: 'Delete a device',
          description: "Its tokens stop working at once, including an open socket's.",
          tags: ['devices'],
          requestParams: { path: DevicePathSchema },
          responses: { 204: { description: 'Deleted.' }, ...errors('invalid_request', 'unauthorized', 'not_found', 'internal') },
        },
      },
      ...operationalPaths('ingest'),
    },
  };
}

let document: OpenApiDocument | undefined;

/** The ingest app's OpenAPI 3.1 document: generated on first use, then the same frozen object. */
export function ingestOpenApiDocument(): OpenApiDocument {
  return (document ??= generateDocument(ingestApiSpec()));
}
