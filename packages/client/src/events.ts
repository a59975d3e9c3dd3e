import type { Notification, Synced } from '@herald/contracts';
import type { HeraldClientError } from './errors.js';

/**
 * The events of `HeraldDevice` and `HeraldPoller`, the same for both so an app can switch
 * transports without changing its handlers.
 */
export interface HeraldClientEvents {
  /** A notification not seen before (duplicates by event id are dropped), oldest first. */
  notification: (notification: Notification) => void;
  /** Caught up: everything missed while away was delivered; `replayed` says how many. */
  synced: (synced: Synced) => void;
  /**
   * The stored cursor is older than the retained history: some notifications are lost for this
   * device, so refresh the app's state in full. Emitted just before the matching `synced`.
   */
  reset: (synced: Synced) => void;
  /** Something went wrong. With `error.fatal` the client has stopped (e.g. its token was revoked). */
  error: (error: HeraldClientError) => void;
  /** Connected (the socket is up, or a pull succeeded after start or after failures). */
  connected: () => void;
  /** Disconnected, with why (socket.io's reason, or the failure that interrupted polling). */
  disconnected: (reason: string) => void;
}
