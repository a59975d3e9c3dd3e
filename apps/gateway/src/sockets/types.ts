import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, DeviceIdentity, ServerToClientEvents } from '@herald/contracts';

/** Gateway nodes send each other nothing directly: they share rooms through the Redis adapter. */
export type InterServerEvents = Record<never, never>;

/** What the handshake established, kept on the socket. */
export interface SocketData {
  device: DeviceIdentity;
  /** The registration the token was issued for: re-checked at each heartbeat (a deleted device is disconnected). */
  credentialId: string;
  /** When the token expires (epoch ms): the connection is closed at the first heartbeat after it. */
  expiresAt: number;
  /** The cursor the device last saw, when it sent one: replay starts after it. */
  cursor: string | undefined;
}

export type GatewayServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type GatewaySocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
