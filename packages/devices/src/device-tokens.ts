import { createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import { AccountIdSchema, DeviceIdSchema, HeraldError, PlatformSchema, ProfileIdSchema } from '@herald/contracts';
import type { DeviceIdentity } from '@herald/contracts';

const ISSUER = 'herald';
const AUDIENCE = 'herald-device';

/** The ids in a token are held to the API's rules: they name Redis keys as soon as it is checked. */
const ClaimsSchema = z.object({
  sub: DeviceIdSchema,
  jti: z.string().min(1),
  acc: AccountIdSchema,
  plt: PlatformSchema,
  prf: ProfileIdSchema.optional(),
});

/** A verified token: who the device is, and which registration (credential) it was issued for. */
export interface VerifiedDeviceToken extends DeviceIdentity {
  credentialId: string;
  expiresAt: number;
}

export interface DeviceTokensOptions {
  secret: string;
  ttlSeconds: number;
  /** The clock tokens are issued (iat, exp) and checked against, in ms (default Date.now). */
  now?: () => number;
}

/** Signs and verifies device tokens: HS256 JWTs carrying account, device, platform and profile. */
export class DeviceTokens {
  /** Imported once: jose would otherwise import raw key bytes on every sign and verify. */
  private readonly key: KeyObject;
  private readonly ttlSeconds: number;
  private readonly now: () => number;

  constructor(options: DeviceTokensOptions) {
    if (options.secret.length === 0) throw new RangeError('the device token secret must not be empty');
    if (!(options.ttlSeconds > 0)) throw new RangeError('ttlSeconds must be positive');
    this.key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    this.ttlSeconds = Math.floor(options.ttlSeconds);
    this.now = options.now ?? Date.now;
  }

  async sign(identity: DeviceIdentity, credentialId: string): Promise<string> {
    const issuedAt = Math.floor(this.now() / 1000);
    return new SignJWT({
      acc: identity.accountId,
      plt: identity.platform,
      ...(identity.profileId === undefined ? {} : { prf: identity.profileId }),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(identity.deviceId)
      .setJti(credentialId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.ttlSeconds)
      .sign(this.key);
  }

  /** Checks signature, issuer, audience and expiry; throws `unauthorized` saying which failed. */
  async verify(token: string): Promise<VerifiedDeviceToken> {
    let payload: unknown;
    let exp: number | undefined;
    try {
      const verified = await jwtVerify(token, this.key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], currentDate: new Date(this.now()) });
      payload = verified.payload;
      exp = verified.payload.exp;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new HeraldError('unauthorized', 'The device token has expired.');
      throw new HeraldError('unauthorized', 'The device token is invalid.');
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success || exp === undefined) throw new HeraldError('unauthorized', 'The device token is invalid.');
    const { sub, jti, acc, plt, prf } = claims.data;
    return {
      accountId: acc,
      deviceId: sub,
      platform: plt,
      ...(prf === undefined ? {} : { profileId: prf }),
      credentialId: jti,
      expiresAt: exp * 1000,
    };
  }
}
