/**
 * Herald's SDK, for browsers and Node alike (nothing here imports `node:` modules):
 * - `HeraldDevice`: web and TV devices, one Socket.IO connection with resume and replay;
 * - `HeraldPoller`: mobile devices, a long-poll loop over `GET /v1/notifications`;
 * - `HeraldPublisher`: services, batched event sending and the device registry.
 */
export { HeraldDevice } from './device.js';
export type { HeraldDeviceOptions } from './device.js';
export { HeraldPoller } from './poller.js';
export type { HeraldPollerOptions } from './poller.js';
export { HeraldPublisher } from './publisher.js';
export type { HeraldPublisherOptions, PublisherRetry, SendOutcome } from './publisher.js';
export type { HeraldClientEvents } from './events.js';
export { HeraldClientError } from './errors.js';
export type { HeraldClientErrorOptions, HeraldErrorDetail } from './errors.js';
export { MemoryCursorStorage, WebCursorStorage, defaultCursorStorage } from './cursor-storage.js';
export type { CursorStorage, WebStorageLike } from './cursor-storage.js';
export { TypedEmitter } from './emitter.js';
export type { EventMap } from './emitter.js';
export { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { compareCursors } from './cursors.js';
export { readTokenClaims } from './device-token.js';
export type { FetchLike } from './http.js';
export type { DeviceView, EventResult, EventTypeInfo, PullResponse, RegisteredDevice } from './responses.js';
export type { EventInput, EventTrace, Notification, Platform, Priority, RegisterDevice, Synced } from '@herald/contracts';
