import { z } from 'zod';

const ClaimsSchema = z.object({ acc: z.string().min(1), sub: z.string().min(1) });

/**
 * The account and device a device token names, read without verifying it (only the gateway can
 * verify; the SDK uses this to give each device its own cursor key). Undefined when the token is
 * not a JWT of that shape.
 */
export function readTokenClaims(token: string): { accountId: string; deviceId: string } | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
    const claims = ClaimsSchema.safeParse(JSON.parse(json));
    return claims.success ? { accountId: claims.data.acc, deviceId: claims.data.sub } : undefined;
  } catch {
    return undefined;
  }
}

/** The storage key of a device's cursor: per account and device, or per token when it cannot tell. */
export function cursorStorageKey(token: string): string {
  const claims = readTokenClaims(token);
  if (claims !== undefined) return `herald:cursor:${encodeURIComponent(claims.accountId)}:${encodeURIComponent(claims.deviceId)}`;
  return `herald:cursor:token:${token.slice(-24)}`;
}
