import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { connect, constants } from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { SignJWT } from 'jose';
import { z } from 'zod';
import type { Logger } from '@herald/runtime';
import type { MobilePlatform, PushOutcome, PushProvider, TokenSignal } from '../push-providers.js';
import { Limiter } from './limiter.js';
import { jsonOrUndefined } from './json.js';
import { retryAfterMs } from './retry-after.js';

/** APNs refuses a provider token older than an hour; one is minted again after this. */
const TOKEN_REFRESH_MS = 50 * 60_000;
/** APNs refuses provider tokens renewed more often than every 20 min (TooManyProviderTokenUpdates). */
const MIN_TOKEN_AGE_MS = 20 * 60_000;
/** The largest payload APNs takes for a background notification. */
export const APNS_MAX_PAYLOAD_BYTES = 4096;

export interface ApnsProviderOptions {
  /** The token-signing key: the `.p8` file's text (PKCS#8 PEM, EC P-256) or its KeyObject. */
  key: string | KeyObject;
  /** The key's 10-character id (the `kid` of provider tokens). */
  keyId: string;
  /** The Apple developer team id (the `iss` of provider tokens). */
  teamId: string;
  /** The app's bundle id (`apns-topic`). */
  topic: string;
  /** `https://api.push.apple.com` (production) or `https://api.sandbox.push.apple.com`. */
  url: string;
  /** A request without an answer after this counts as not delivered. */
  timeoutMs: number;
  /** Requests in flight at most (over the one HTTP/2 session). */
  concurrency: number;
  /** Certificates to trust besides the system's (a local stand-in in tests). */
  ca?: string | Buffer | undefined;
  /** Age at which the provider token is minted again (default 50 min; APNs refuses it after 60). */
  tokenRefreshMs?: number | undefined;
  logger?: Logger | undefined;
  now?: (() => number) | undefined;
}

/** The body of an APNs error answer. */
const ApnsErrorSchema = z.object({ reason: z.string(), timestamp: z.number().optional() });

interface ApnsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * The background ("content-available") push a signal becomes: no alert, sound or badge, and
 * nothing private: the account and the newest cursor, what the app needs to pull.
 */
export function apnsPayload(signal: Pick<TokenSignal, 'accountId' | 'cursor'>): string {
  return JSON.stringify({ aps: { 'content-available': 1 }, accountId: signal.accountId, cursor: signal.cursor });
}

/** Reads an APNs signing key, refusing anything but an EC P-256 private key. */
export function apnsSigningKey(key: string | KeyObject): KeyObject {
  const object = typeof key === 'string' ? createPrivateKey(key) : key;
  if (object.type !== 'private' || object.asymmetricKeyType !== 'ec' || object.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('an APNs key must be an EC P-256 private key (the .p8 file from Apple)');
  }
  return object;
}

/**
 * Apple Push Notification service, token-based: signals go as background pushes over one
 * HTTP/2 session per provider (so per process), opened on first use and opened again after
 * the server sends GOAWAY, the connection fails, or a request times out. The ES256 provider
 * token is minted once and reused for every request until it is 50 minutes old.
 */
export class ApnsProvider implements PushProvider {
  readonly name = 'apns';
  private readonly key: KeyObject;
  private readonly limiter: Limiter;
  private readonly now: () => number;
  private readonly refreshMs: number;
  private session: ClientHttp2Session | undefined;
  private token: { jwt: Promise<string>; issuedAt: number } | undefined;
  private closed = false;

  constructor(private readonly options: ApnsProviderOptions) {
    this.key = apnsSigningKey(options.key);
    if (!/^https:\/\/[^/]+\/?$/.test(options.url)) throw new Error(`the APNs URL must be an https:// origin, not ${options.url}`);
    if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    this.limiter = new Limiter(options.concurrency);
    this.now = options.now ?? Date.now;
    this.refreshMs = options.tokenRefreshMs ?? TOKEN_REFRESH_MS;
  }

  async send(_platform: MobilePlatform, signals: readonly TokenSignal[]): Promise<PushOutcome[]> {
    return Promise.all(signals.map((signal) => this.limiter.run(signal.priority, () => this.sendOne(signal))));
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    if (session !== undefined && !session.closed) await new Promise<void>((resolve) => session.close(() => resolve()));
  }

  private async sendOne(signal: TokenSignal): Promise<PushOutcome> {
    let answer: ApnsAnswer;
    let jwt: string;
    try {
      jwt = await this.providerToken();
      answer = await this.post(`/3/device/${encodeURIComponent(signal.pushToken)}`, jwt, apnsPayload(signal));
    } catch (error) {
      return { status: 'retry', reason: `APNs: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (answer.status === 200) return { status: 'sent' };
    const parsed = ApnsErrorSchema.safeParse(jsonOrUndefined(answer.body));
    const reason = parsed.success ? parsed.data.reason : `status ${answer.status}`;
    if (answer.status === 410 || (answer.status === 400 && reason === 'BadDeviceToken')) return { status: 'dead_token', reason };
    if (answer.status === 403 && reason === 'ExpiredProviderToken') this.expireToken(jwt);
    const header = answer.headers['retry-after'];
    return { status: 'retry', reason: `APNs answered ${answer.status} ${reason}`, retryAfterMs: retryAfterMs(Array.isArray(header) ? header[0] : header) };
  }

  /** The provider token: minted on first use, reused until `tokenRefreshMs` old. */
  private providerToken(): Promise<string> {
    const now = this.now();
    if (this.token === undefined || now - this.token.issuedAt >= this.refreshMs) {
      const { keyId, teamId } = this.options;
      const jwt = new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: keyId })
        .setIssuer(teamId)
        .setIssuedAt(Math.floor(now / 1000))
        .sign(this.key);
      const token = { jwt, issuedAt: now };
      this.token = token;
      jwt.catch(() => {
        if (this.token === token) this.token = undefined;
      });
    }
    return this.token.jwt;
  }

  /** APNs says the token expired (a clock off, or a process asleep): mint anew, but not more often than APNs allows. */
  private expireToken(jwt: string): void {
    const token = this.token;
    if (token === undefined || this.now() - token.issuedAt < MIN_TOKEN_AGE_MS) return;
    void token.jwt.then((current) => {
      if (current === jwt && this.token === token) this.token = undefined;
    });
  }

  /** The open session, or a new one. A session that goes away or fails is forgotten, so the next request opens another. */
  private currentSession(): ClientHttp2Session {
    if (this.closed) throw new Error('the APNs provider is closed');
    const open = this.session;
    if (open !== undefined && !open.closed && !open.destroyed) return open;
    const session = connect(this.options.url, this.options.ca === undefined ? {} : { ca: this.options.ca });
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on('goaway', (code: number) => {
      forget();
      this.options.logger?.info({ code }, 'APNs sent GOAWAY; the next signals open a new connection');
    });
    session.on('error', (error: Error) => {
      forget();
      this.options.logger?.warn({ err: error }, 'APNs connection failed');
    });
    session.on('close', forget);
    this.session = session;
    return session;
  }

  private post(path: string, jwt: string, body: string): Promise<ApnsAnswer> {
    const session = this.currentSession();
    const { topic, timeoutMs } = this.options;
    return new Promise<ApnsAnswer>((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': path,
        authorization: `bearer ${jwt}`,
        'apns-topic': topic,
        'apns-push-type': 'background',
        'apns-priority': '5',
        'content-type': 'application/json',
      });
      let headers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        // No answer in time: this session may be stuck. New requests open another; the
        // requests still on this one finish or time out on their own.
        if (this.session === session) this.session = undefined;
        session.close();
        stream.close(constants.NGHTTP2_CANCEL);
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      stream.on('response', (responseHeaders) => {
        headers = responseHeaders;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        clearTimeout(timer);
        resolve({ status: Number(headers[':status'] ?? 0), headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      stream.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      // Reset or cut off before its end (after 'end', this changes nothing).
      stream.on('close', () => {
        clearTimeout(timer);
        reject(new Error(`the request was closed without an answer (HTTP/2 code ${stream.rstCode ?? 0})`));
      });
      stream.end(body);
    });
  }
}
