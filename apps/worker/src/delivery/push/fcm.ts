import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { z } from 'zod';
import type { Logger } from '@herald/runtime';
import type { MobilePlatform, PushOutcome, PushProvider, TokenSignal } from '../push-providers.js';
import { Limiter } from './limiter.js';
import { jsonOrUndefined } from './json.js';
import { retryAfterMs } from './retry-after.js';

/** The OAuth2 scope of FCM HTTP v1. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** An access token is replaced this long before it expires, so none is used at its last second. */
const REFRESH_EARLY_MS = 5 * 60_000;

/** The fields of a Google service-account key file (JSON) that FCM needs. */
export const ServiceAccountSchema = z.object({
  project_id: z.string().min(1),
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  private_key_id: z.string().min(1).optional(),
  token_uri: z.url({ protocol: /^https?$/ }),
});
export type ServiceAccount = z.infer<typeof ServiceAccountSchema>;

/** The token endpoint's answer to a JWT-bearer grant. */
const AccessTokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive(), token_type: z.string().optional() });

/** An FCM error answer: `error.details` carries an FcmError with the `errorCode` that matters. */
const FcmErrorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    status: z.string().optional(),
    message: z.string().optional(),
    details: z.array(z.looseObject({ '@type': z.string().optional(), errorCode: z.string().optional() })).optional(),
  }),
});

export interface FcmProviderOptions {
  serviceAccount: ServiceAccount;
  /** `https://fcm.googleapis.com`. */
  url: string;
  /** A request (to FCM or to the token endpoint) without an answer after this counts as not delivered. */
  timeoutMs: number;
  /** Requests to FCM in flight at most. */
  concurrency: number;
  logger?: Logger | undefined;
  now?: (() => number) | undefined;
}

/** The FCM message a signal becomes: data only (string values), no `notification` block. */
export function fcmMessage(platform: MobilePlatform, signal: TokenSignal): Record<string, unknown> {
  const data = { accountId: signal.accountId, cursor: signal.cursor };
  if (platform === 'android') return { token: signal.pushToken, data, android: { priority: signal.priority === 'high' ? 'high' : 'normal' } };
  // An iOS app reached through FCM: a silent background push, as the APNs provider sends it.
  return {
    token: signal.pushToken,
    data,
    apns: { headers: { 'apns-push-type': 'background', 'apns-priority': '5' }, payload: { aps: { 'content-available': 1 } } },
  };
}

/** Reads a service account's private key, refusing anything but an RSA private key. */
export function serviceAccountKey(account: ServiceAccount): KeyObject {
  const key = createPrivateKey(account.private_key);
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') throw new Error('a service account private_key must be an RSA private key');
  return key;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Firebase Cloud Messaging, HTTP v1: one `messages:send` request per signal, authorized by an
 * OAuth2 access token the provider gets from the service account's `token_uri` with a
 * JWT-bearer grant (an RS256 assertion) and reuses until shortly before it expires.
 */
export class FcmProvider implements PushProvider {
  readonly name = 'fcm';
  private readonly key: KeyObject;
  private readonly limiter: Limiter;
  private readonly now: () => number;
  private readonly sendUrl: string;
  private access: Promise<{ token: string; expiresAt: number }> | undefined;

  constructor(private readonly options: FcmProviderOptions) {
    this.key = serviceAccountKey(options.serviceAccount);
    if (!/^https?:\/\/[^/]+\/?$/.test(options.url)) throw new Error(`the FCM URL must be an http(s):// origin, not ${options.url}`);
    if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    this.limiter = new Limiter(options.concurrency);
    this.now = options.now ?? Date.now;
    this.sendUrl = `${options.url.replace(/\/$/, '')}/v1/projects/${encodeURIComponent(options.serviceAccount.project_id)}/messages:send`;
  }

  async send(platform: MobilePlatform, signals: readonly TokenSignal[]): Promise<PushOutcome[]> {
    return Promise.all(signals.map((signal) => this.limiter.run(signal.priority, () => this.sendOne(platform, signal))));
  }

  private async sendOne(platform: MobilePlatform, signal: TokenSignal): Promise<PushOutcome> {
    let token: string;
    let response: Response;
    let text: string;
    try {
      token = await this.accessToken();
      response = await fetch(this.sendUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: fcmMessage(platform, signal) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      return { status: 'retry', reason: `FCM: ${messageOf(error)}` };
    }
    if (response.ok) return { status: 'sent' };
    const parsed = FcmErrorSchema.safeParse(jsonOrUndefined(text));
    const error = parsed.success ? parsed.data.error : undefined;
    const errorCode =
      error?.details?.find((detail) => detail['@type']?.endsWith('FcmError') === true)?.errorCode ?? error?.status ?? `status ${response.status}`;
    if (response.status === 404 && errorCode === 'UNREGISTERED') return { status: 'dead_token', reason: errorCode };
    if (response.status === 401) this.forgetAccessToken(token);
    return { status: 'retry', reason: `FCM answered ${response.status} ${errorCode}`, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
  }

  /** The access token: fetched on first use, reused until shortly before it expires; one fetch at a time. */
  private async accessToken(): Promise<string> {
    const cached = this.access;
    if (cached !== undefined) {
      const current = await cached.catch(() => undefined);
      if (current !== undefined && this.now() < current.expiresAt - REFRESH_EARLY_MS) return current.token;
      // Another caller replaced it while this one waited: use theirs.
      if (this.access !== cached) return this.accessToken();
    }
    const fresh = this.fetchAccessToken();
    this.access = fresh;
    fresh.catch(() => {
      if (this.access === fresh) this.access = undefined;
    });
    return (await fresh).token;
  }

  /** FCM refused the token (401): the next request gets another. */
  private forgetAccessToken(token: string): void {
    const cached = this.access;
    void cached?.then(
      (current) => {
        if (current.token === token && this.access === cached) this.access = undefined;
      },
      () => undefined,
    );
  }

  private async fetchAccessToken(): Promise<{ token: string; expiresAt: number }> {
    const { client_email, token_uri, private_key_id } = this.options.serviceAccount;
    const now = this.now();
    const iat = Math.floor(now / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(private_key_id === undefined ? {} : { kid: private_key_id }) })
      .setIssuer(client_email)
      .setAudience(token_uri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(this.key);
    const response = await fetch(token_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`the token endpoint answered ${response.status} ${text.slice(0, 200)}`);
    const parsed = AccessTokenSchema.safeParse(jsonOrUndefined(text));
    if (!parsed.success) throw new Error(`the token endpoint answered what is not an access token: ${text.slice(0, 200)}`);
    this.options.logger?.debug({ expiresIn: parsed.data.expires_in }, 'FCM access token obtained');
    return { token: parsed.data.access_token, expiresAt: now + parsed.data.expires_in * 1000 };
  }
}
