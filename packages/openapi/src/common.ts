import { z } from 'zod';
import {
  AcceptResultSchema,
  AccountIdSchema,
  ApiErrorSchema,
  BatchItemAcceptedSchema,
  BatchItemRefusedSchema,
  BatchResultSchema,
  CursorSchema,
  DeviceIdSchema,
  DeviceListSchema,
  DeviceViewSchema,
  ERROR_CODES,
  ErrorBodySchema,
  ErrorCodeSchema,
  ErrorDetailSchema,
  EventIdSchema,
  EventInputSchema,
  JsonObjectSchema,
  MAX_PAYLOAD_BYTES,
  MAX_PAYLOAD_DEPTH,
  EventTraceSchema,
  EventTypeInfoSchema,
  EventTypeListSchema,
  GateVerdictSchema,
  HealthSchema,
  NotificationSchema,
  NotificationsPageSchema,
  PlatformSchema,
  PrioritySchema,
  ProfileIdSchema,
  ReadinessSchema,
  RegisterDeviceResultSchema,
  RegisterDeviceSchema,
} from '@herald/contracts';
import type { ErrorCode } from '@herald/contracts';
import type { ZodOpenApiPathsObject, ZodOpenApiResponseObject } from 'zod-openapi';
import type { InfoObject, JsonSchema, ServerObject } from './document.js';
import type { NamedSchema } from './generate-document.js';

/** Where each app serves its document. */
export const OPENAPI_PATH = '/openapi.json';

/**
 * `info.license` of both documents. Herald has not been published under a license: all rights
 * reserved, which SPDX writes as a `LicenseRef-`. Change it here when the project picks one.
 */
export const LICENSE: InfoObject['license'] = { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' };

/**
 * `servers` of an app's document: the app that serves it. A relative URL resolves against where
 * the document was fetched from, so it is right in every deployment; the default local one is
 * only named (Redocly's recommended rules refuse a `localhost` server).
 */
export function servers(app: string, defaultPort: number): ServerObject[] {
  return [{ url: '/', description: `The ${app} app that serves this document (\`npm start\`: http://localhost:${defaultPort}).` }];
}

/** The schemas both documents name (each document keeps only those it uses). */
export const SHARED_COMPONENTS: readonly NamedSchema[] = [
  { name: 'AccountId', schema: AccountIdSchema, description: 'An account id: opaque to Herald.' },
  { name: 'DeviceId', schema: DeviceIdSchema, description: 'A device id: opaque to Herald, chosen by the service or generated at registration.' },
  { name: 'ProfileId', schema: ProfileIdSchema, description: 'A profile id: opaque to Herald.' },
  { name: 'EventId', schema: EventIdSchema, description: 'An event id, the idempotency key: the same id again within the dedup window answers `duplicate`.' },
  {
    name: 'Cursor',
    schema: CursorSchema,
    description: 'A position in the account history (`<ms>-<seq>`). Pass it back as `after` (pull) or `cursor` (socket handshake).',
  },
  { name: 'Platform', schema: PlatformSchema, description: 'Web and TV are pushed to over Socket.IO; iOS and Android pull.' },
  { name: 'Priority', schema: PrioritySchema, description: 'Each priority has its own streams and workers, so a flood of one never delays another.' },
  { name: 'ErrorCode', schema: ErrorCodeSchema, description: 'Clients branch on the code; codes are never renamed.' },
  {
    name: 'ErrorDetail',
    schema: ErrorDetailSchema,
    description: 'One problem with the request; `path` is dotted (`events.3.targets.platforms.0`), empty for the whole body.',
  },
  { name: 'ApiError', schema: ApiErrorSchema },
  { name: 'ErrorBody', schema: ErrorBodySchema, description: 'The body of every error response.' },
  {
    name: 'EventInput',
    schema: EventInputSchema,
    description: 'An event as a service submits it. Unknown fields are refused.',
    fields: {
      id: 'Idempotency key; generated when absent.',
      type: 'An event type of the catalog (`GET /v1/event-types`).',
      payload: 'Any JSON object, at most 8 KiB serialized.',
      createdAt: 'ISO-8601 date-time or epoch milliseconds; default now. Staleness counts from it.',
      collapseKey: 'Later notifications with the same key supersede earlier ones on pull.',
      targets: 'Narrows the devices of the account that get it; absent: every device of a platform the type goes to.',
    },
  },
  { name: 'AcceptResult', schema: AcceptResultSchema },
  { name: 'BatchItemAccepted', schema: BatchItemAcceptedSchema },
  { name: 'BatchItemRefused', schema: BatchItemRefusedSchema },
  { name: 'BatchResult', schema: BatchResultSchema, description: 'One result per item, in the order of the request.' },
  { name: 'EventTrace', schema: EventTraceSchema, description: 'Where one event went and why. Times are ISO-8601.' },
  { name: 'GateVerdict', schema: GateVerdictSchema },
  { name: 'EventTypeInfo', schema: EventTypeInfoSchema },
  { name: 'EventTypeList', schema: EventTypeListSchema },
  { name: 'RegisterDevice', schema: RegisterDeviceSchema, description: 'Registers a device, or updates it when `deviceId` is known (its tokens stay valid).' },
  { name: 'RegisterDeviceResult', schema: RegisterDeviceResultSchema },
  { name: 'DeviceView', schema: DeviceViewSchema },
  { name: 'DeviceList', schema: DeviceListSchema },
  { name: 'Notification', schema: NotificationSchema, description: 'One notification, as pushed over Socket.IO and pulled over HTTP.' },
  { name: 'NotificationsPage', schema: NotificationsPageSchema },
  { name: 'Health', schema: HealthSchema },
  { name: 'Readiness', schema: ReadinessSchema },
];

/** Payloads are checked with zod custom checks (a JSON object; in events, of at most 8 KiB, nested at most 32 deep) JSON Schema cannot express. */
export const UNREPRESENTABLE: ReadonlyMap<z.ZodType, JsonSchema> = new Map<z.ZodType, JsonSchema>([
  [
    EventInputSchema.shape.payload.unwrap(),
    {
      type: 'object',
      description: `A JSON object of at most ${MAX_PAYLOAD_BYTES} bytes serialized, nesting objects and arrays at most ${MAX_PAYLOAD_DEPTH} deep.`,
    },
  ],
  [JsonObjectSchema, { type: 'object' }],
]);

/** A `Retry-After` header, in seconds. */
export function retryAfter(required: boolean, description: string) {
  const seconds = z.int().nonnegative();
  return z.object({ 'Retry-After': (required ? seconds : seconds.optional()).meta({ header: { description } }) });
}

/** Each error response is written once, under `components.responses` (zod-openapi's `id`). */
const ERROR_RESPONSES = {
  invalid_request: {
    id: 'InvalidRequest',
    description: '`invalid_request`: malformed JSON, a body that is not an object, or a value the schema refuses; `details` has one item per problem.',
  },
  unauthorized: { id: 'Unauthorized', description: '`unauthorized`: the credential is missing, wrong, expired or revoked.' },
  forbidden: { id: 'Forbidden', description: '`forbidden`: a browser origin that is not in `HERALD_ALLOWED_ORIGINS`.' },
  not_found: { id: 'NotFound', description: '`not_found`: no such resource.' },
  conflict: { id: 'Conflict', description: '`conflict`: the account already has as many devices as it may (100); delete one first.' },
  payload_too_large: { id: 'PayloadTooLarge', description: '`payload_too_large`: the body is over the size limit of the endpoint.' },
  unsupported_media_type: { id: 'UnsupportedMediaType', description: '`unsupported_media_type`: the body is not `application/json` (UTF-8).' },
  backlog_exceeded: {
    id: 'BacklogExceeded',
    description:
      "`backlog_exceeded`: the event's priority is over its backlog limit (other priorities are unaffected); or `overloaded`: Herald is shedding the event's priority while the host or Redis cannot keep up (low first, then medium; never high), and wrote nothing. Either way, retry after `Retry-After` seconds.",
    headers: retryAfter(true, 'Seconds to wait before sending events of this priority again.'),
  },
  internal: {
    id: 'InternalError',
    description: '`internal`: something failed on our side (Redis unreachable mid-request, a bug); the message reveals nothing.',
  },
  unavailable: { id: 'Unavailable', description: '`unavailable`: not ready (Redis unreachable, or the node is shutting down).' },
} satisfies Partial<Record<ErrorCode, Omit<ZodOpenApiResponseObject, 'content'>>>;

type DocumentedError = keyof typeof ERROR_RESPONSES;

/** The error responses of an operation, each under the status `ERROR_CODES` maps its code to, with the error body. */
export function errors(...codes: DocumentedError[]): Record<number, ZodOpenApiResponseObject> {
  const responses: Record<number, ZodOpenApiResponseObject> = {};
  for (const code of codes) {
    const status = ERROR_CODES[code];
    if (responses[status] !== undefined) throw new Error(`two documented errors share status ${status}`);
    responses[status] = errorResponse(code);
  }
  return responses;
}

const shared = new Map<DocumentedError, ZodOpenApiResponseObject>();
/** One object per code: zod-openapi refuses two different responses with one `id`. */
function errorResponse(code: DocumentedError): ZodOpenApiResponseObject {
  let response = shared.get(code);
  if (response === undefined) {
    response = { ...ERROR_RESPONSES[code], content: json(ErrorBodySchema) };
    shared.set(code, response);
  }
  return response;
}

/** An `application/json` body. */
export const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

/** `GET /healthz`, `GET /readyz`, `GET /metrics` and the document itself: every app serves them, without credentials. */
export function operationalPaths(app: string): ZodOpenApiPathsObject {
  const operation = { tags: ['operations'], security: [] };
  return {
    '/healthz': {
      get: { operationId: 'health', summary: 'The process is up', ...operation, responses: { 200: { description: 'Up.', content: json(HealthSchema) } } },
    },
    '/readyz': {
      get: {
        operationId: 'readiness',
        summary: 'Ready for traffic',
        description: `Redis answers a PING within a second${app === 'gateway' ? ', and the node is not shutting down' : ''}. Load balancers route by it.`,
        ...operation,
        responses: { 200: { description: 'Ready.', content: json(ReadinessSchema) }, ...errors('unavailable') },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        ...operation,
        responses: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: z.string() } } } },
      },
    },
    [OPENAPI_PATH]: {
      get: {
        operationId: 'openApiDocument',
        summary: 'This document',
        description: 'The OpenAPI 3.1 document of this app, generated from the zod schemas the code validates and answers with.',
        ...operation,
        responses: { 200: { description: 'An OpenAPI 3.1 document.', content: json(z.looseObject({ openapi: z.literal('3.1.0') })) } },
      },
    },
  };
}

export const OPERATIONS_TAG = { name: 'operations', description: 'Health, metrics and this document; no credential needed.' };
