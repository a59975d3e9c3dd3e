export { PLATFORMS, PRIORITIES, PlatformSchema, PrioritySchema } from './platform.js';
export type { Platform, Priority } from './platform.js';
export { AccountIdSchema, DeviceIdSchema, EventIdSchema, ProfileIdSchema, isWellFormedUnicode } from './identifiers.js';
export {
  AcceptedEventSchema,
  AcceptStatusSchema,
  EventBatchSchema,
  EventInputSchema,
  JsonObjectSchema,
  MAX_BATCH_EVENTS,
  MAX_PAYLOAD_BYTES,
  MAX_PAYLOAD_DEPTH,
} from './event.js';
export type { AcceptedEvent, AcceptStatus, EventInput, ParsedEventInput, Targets } from './event.js';
export { DeviceRecordSchema, GatewayNodeEntrySchema, RegisterDeviceSchema } from './device.js';
export type { DeviceIdentity, DeviceRecord, GatewayNodeEntry, RegisterDevice } from './device.js';
export {
  AckSchema,
  CursorSchema,
  DeviceIdListSchema,
  HandshakeAuthSchema,
  NotificationSchema,
  StreamIdSchema,
  SyncedSchema,
  compareCursors,
  deviceRoom,
} from './notification.js';
export { parseJson } from './json.js';
export { LIVE_PUSHES_PER_MESSAGE, LiveMessageSchema, LivePushSchema, LiveTraceSchema, encodeLiveMessages, encodeLivePush, livePushPosition } from './live.js';
export type { LiveMessage, LivePush, LiveTrace } from './live.js';
export type { Ack, ClientToServerEvents, Cursor, HandshakeAuth, Notification, ServerToClientEvents, Synced } from './notification.js';
export { EventTraceSchema, GateNameSchema, GateVerdictSchema, NoTargetsReasonSchema, RoutingVerdictSchema, TapRecordSchema } from './trace.js';
export type { EventTrace, GateName, GateVerdict, NoTargetsReason, RoutingVerdict, TapRecord } from './trace.js';
export {
  AcceptResultSchema,
  AccountPathSchema,
  ApiErrorSchema,
  BatchItemAcceptedSchema,
  BatchItemRefusedSchema,
  BatchResultSchema,
  DeviceListSchema,
  DevicePathSchema,
  DeviceViewSchema,
  ErrorBodySchema,
  ErrorCodeSchema,
  ErrorDetailSchema,
  EventPathSchema,
  EventTypeInfoSchema,
  EventTypeListSchema,
  HealthSchema,
  MAX_NOTIFICATIONS_LIMIT,
  MAX_NOTIFICATIONS_WAIT_MS,
  NotificationsPageSchema,
  NotificationsQuerySchema,
  ReadinessSchema,
  RegisterDeviceResultSchema,
} from './http-api.js';
export type { AcceptResult, BatchResult, DeviceList, ErrorBody, ErrorDetail, EventTypeList, NotificationsPage, RegisterDeviceResult } from './http-api.js';
export { ERROR_CODES } from './error-codes.js';
export type { ErrorCode } from './error-codes.js';
export { HeraldError, codeForClientStatus, toHeraldError, issuesToDetails } from './herald-error.js';
