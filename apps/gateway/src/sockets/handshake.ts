import type { ExtendedError } from 'socket.io';
import { HandshakeAuthSchema, HeraldError, toHeraldError } from '@herald/contracts';
import type { DeviceRegistry } from '@herald/devices';
import { parseInput } from '@herald/http';
import type { Logger } from '@herald/runtime';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { checkOrigin } from '../origins.js';
import type { GatewaySocket, SocketData } from './types.js';

export interface HandshakeDeps {
  devices: DeviceRegistry;
  allowedOrigins: readonly string[] | undefined;
  /** False once the node is shutting down: new connections are sent elsewhere. */
  accepting: () => boolean;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** The `connect_error` a refused client sees: `message` says why, `data` is `{ code, message, details? }`. */
function refusal(thrown: unknown): ExtendedError {
  const error = toHeraldError(thrown);
  const refused: ExtendedError = new Error(error.message);
  refused.data = error.toJSON().error;
  return refused;
}

function readAuth(auth: unknown): { token: string; cursor: string | undefined } {
  const token = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
  if (typeof token !== 'string' || token.length === 0) {
    throw new HeraldError('unauthorized', 'Send the device token in the handshake: auth: { token, cursor? }.');
  }
  const parsed = parseInput(HandshakeAuthSchema, auth, 'The handshake auth is invalid.');
  return { token: parsed.token, cursor: parsed.cursor };
}

async function authenticate(socket: GatewaySocket, deps: HandshakeDeps): Promise<SocketData> {
  if (!deps.accepting()) throw new HeraldError('unavailable', 'This gateway node is shutting down; connect again.');
  checkOrigin(socket.handshake.headers.origin, deps.allowedOrigins);
  const { token, cursor } = readAuth(socket.handshake.auth);
  const identity = await deps.devices.authenticate(token);
  const device = {
    accountId: identity.accountId,
    deviceId: identity.deviceId,
    platform: identity.platform,
    ...(identity.profileId === undefined ? {} : { profileId: identity.profileId }),
  };
  return { device, credentialId: identity.credentialId, expiresAt: identity.expiresAt, cursor };
}

/**
 * Socket.IO middleware: origin, then the device token (signature, expiry, still registered),
 * before the socket joins anything. A refused handshake never becomes a connection, and the
 * engine connection it came on is closed after `connectTimeout` unless it authenticates.
 */
export function handshake(deps: HandshakeDeps): (socket: GatewaySocket, next: (err?: ExtendedError) => void) => void {
  return (socket, next) => {
    authenticate(socket, deps).then(
      (data) => {
        socket.data = data;
        // Socket.IO keeps the handshake for the socket's life; the credential need not stay in memory.
        delete socket.handshake.auth['token'];
        next();
      },
      (thrown: unknown) => {
        const error = refusal(thrown);
        const code = toHeraldError(thrown).code;
        deps.metrics.handshakesRefused.inc({ reason: code });
        if (code === 'internal') deps.logger.error({ err: thrown }, 'handshake failed');
        next(error);
      },
    );
  };
}
