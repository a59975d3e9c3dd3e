import { createAdapter } from '@socket.io/redis-adapter';
import type { Namespace } from 'socket.io';
import { NotificationSchema } from '@herald/contracts';
import type { Notification } from '@herald/contracts';
import type { RedisClient } from '@herald/redis';

/** Where `notification` broadcasts for this node's sockets go instead of straight to the wire. */
export interface LiveNotificationSink {
  /** Whether the gateway delivers to this socket itself (true for every device connection). */
  handles(socketId: string): boolean;
  deliver(socketId: string, notification: Notification): void;
  /** A broadcast whose payload is not a valid notification (it is dropped). */
  invalid(payload: unknown): void;
}

/** socket.io-parser's EVENT packet type. */
const EVENT = 2;

interface BroadcastPacket {
  type: number;
  data?: unknown;
  id?: number;
}

/**
 * The two methods of socket.io-adapter's in-memory Adapter (2.5.x) that every broadcast goes
 * through, local or received from Redis: `_encode(packet)` once per broadcast, then
 * `apply(opts, writeToSocket)` which calls `writeToSocket` for each local socket in the rooms.
 * They are not public API, which is why this hook checks for them at start-up.
 */
interface BroadcastInternals {
  _encode(packet: BroadcastPacket, packetOptions: unknown): unknown;
  apply(opts: unknown, callback: (socket: { id: string }) => void): void;
}

function hasBroadcastInternals(adapter: object): adapter is BroadcastInternals {
  const candidate = adapter as Partial<BroadcastInternals>;
  return typeof candidate._encode === 'function' && typeof candidate.apply === 'function';
}

function notificationPayload(packet: BroadcastPacket | undefined): { payload: unknown } | undefined {
  if (packet === undefined || packet.type !== EVENT || packet.id !== undefined) return undefined;
  const data = packet.data;
  if (!Array.isArray(data) || data[0] !== 'notification') return undefined;
  return { payload: data[1] };
}

/**
 * The Socket.IO Redis adapter, with `notification` broadcasts (from the worker's emitter or
 * another node) handed to the gateway per socket instead of written to the socket directly.
 * The gateway needs that to hold pushes while it replays history to a reconnecting device (so
 * it sends everything in order, once), to drop a push sent twice, and to ask for an ack
 * callback on live pushes too. Every other broadcast goes to the sockets unchanged.
 */
export function notificationAwareRedisAdapter(
  pub: RedisClient,
  sub: RedisClient,
  key: string,
  sink: LiveNotificationSink,
): (nsp: Namespace) => ReturnType<ReturnType<typeof createAdapter>> {
  const build = createAdapter(pub, sub, { key });
  // A function, not an arrow: Socket.IO calls it with `new` (and takes the object it returns).
  return function notificationAwareAdapter(nsp) {
    const adapter = build(nsp);
    if (!hasBroadcastInternals(adapter)) {
      throw new Error('socket.io-adapter no longer has _encode/apply: the gateway cannot intercept notification broadcasts');
    }
    interceptNotifications(adapter, sink);
    return adapter;
  };
}

function interceptNotifications(adapter: BroadcastInternals, sink: LiveNotificationSink): void {
  const encode = adapter._encode.bind(adapter);
  const apply = adapter.apply.bind(adapter);
  let current: BroadcastPacket | undefined;
  adapter._encode = (packet, packetOptions) => {
    const encoded = encode(packet, packetOptions);
    current = packet;
    return encoded;
  };
  adapter.apply = (opts, callback) => {
    const notification = notificationPayload(current);
    current = undefined;
    if (notification === undefined) {
      apply(opts, callback);
      return;
    }
    let parsed: Notification | null | undefined;
    apply(opts, (socket) => {
      if (!sink.handles(socket.id)) {
        callback(socket);
        return;
      }
      if (parsed === undefined) {
        const result = NotificationSchema.safeParse(notification.payload);
        parsed = result.success ? result.data : null;
        if (parsed === null) sink.invalid(notification.payload);
      }
      if (parsed !== null) sink.deliver(socket.id, parsed);
    });
  };
}
