import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { z } from 'zod';
import { FCM_SCOPE } from './fcm.js';
import type { ServiceAccount } from './fcm.js';

const PROJECT = 'herald-test';
const CLIENT_EMAIL = 'push@herald-test.iam.gserviceaccount.com';
const KEY_ID = 'key-1';

/** A message as FCM HTTP v1 takes it, as strictly as the stand-in checks it. */
const SendBodySchema = z
  .object({
    message: z
      .object({
        token: z.string().min(1),
        data: z.record(z.string(), z.string()),
        android: z
          .object({ priority: z.enum(['high', 'normal']) })
          .strict()
          .optional(),
        apns: z
          .object({ headers: z.record(z.string(), z.string()), payload: z.object({ aps: z.object({ 'content-available': z.literal(1) }).strict() }).strict() })
          .strict()
          .optional(),
      })
      .strict(),
  })
  .strict();
export type FcmMessage = z.infer<typeof SendBodySchema>['message'];

/** A message the stand-in took, after checking it and its bearer token. */
export interface FcmRequest {
  message: FcmMessage;
  accessToken: string;
  at: number;
}

/** How the stand-in answers a send that passed its checks; undefined: 200. */
export type FcmScript = (request: FcmRequest) => { status: number; errorCode?: string; headers?: Record<string, string>; delayMs?: number } | undefined;

/**
 * A local stand-in for Google's OAuth2 token endpoint and FCM HTTP v1, on one plain HTTP server:
 * `POST /token` takes a JWT-bearer grant whose RS256 assertion it verifies with the service
 * account's public key (`iss` = client_email, `aud` = token_uri, the FCM scope, an hour at most)
 * and hands out access tokens; `POST /v1/projects/<project>/messages:send` takes a message
 * with a live access token. Anything else is answered as Google would and listed in `refused`.
 */
export class FakeFcm {
  readonly requests: FcmRequest[] = [];
  readonly refused: string[] = [];
  /** The claims of the assertions it verified and granted. */
  readonly assertions: JWTPayload[] = [];
  /** Access tokens handed out, with their expiry (the stand-in's clock). */
  readonly issued = new Map<string, number>();
  /** Lifetime of the access tokens it hands out. */
  expiresInSeconds = 3600;
  script: FcmScript = () => undefined;
  /** Answers the token endpoint only after this (a token endpoint that hangs). */
  tokenDelayMs = 0;
  readonly serviceAccount: ServiceAccount;
  private readonly publicKey: KeyObject;
  private readonly server: Server;
  private readonly now: () => number;

  private constructor(now: (() => number) | undefined) {
    this.now = now ?? Date.now;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.publicKey = publicKey;
    this.serviceAccount = {
      project_id: PROJECT,
      client_email: CLIENT_EMAIL,
      private_key_id: KEY_ID,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      token_uri: 'http://placeholder/token',
    };
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(options: { now?: () => number } = {}): Promise<FakeFcm> {
    const fake = new FakeFcm(options.now);
    fake.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => fake.server.once('listening', resolve));
    fake.serviceAccount.token_uri = `${fake.url}/token`;
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The service-account key file as Google gives it. */
  serviceAccountJson(): string {
    return JSON.stringify({ type: 'service_account', client_id: '1234', ...this.serviceAccount });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const reply = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json));
    };
    const googleError = (status: number, statusName: string, why: string, errorCode?: string) => {
      this.refused.push(`${status} ${statusName}: ${why}`);
      reply(status, {
        error: {
          code: status,
          message: why,
          status: statusName,
          ...(errorCode === undefined ? {} : { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] }),
        },
      });
    };

    if (req.method === 'POST' && req.url === '/token') {
      if (this.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.tokenDelayMs));
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        return googleError(400, 'invalid_grant', `grant_type ${form.get('grant_type')}`);
      const assertion = form.get('assertion') ?? '';
      try {
        const header = decodeProtectedHeader(assertion);
        if (header.alg !== 'RS256' || header.kid !== KEY_ID) return googleError(400, 'invalid_grant', `header ${JSON.stringify(header)}`);
        const { payload } = await jwtVerify(assertion, this.publicKey, {
          algorithms: ['RS256'],
          issuer: CLIENT_EMAIL,
          audience: this.serviceAccount.token_uri,
          currentDate: new Date(this.now()),
          requiredClaims: ['iat', 'exp', 'scope'],
        });
        if (payload['scope'] !== FCM_SCOPE) return googleError(400, 'invalid_scope', `scope ${String(payload['scope'])}`);
        if (payload.exp! - payload.iat! > 3600) return googleError(400, 'invalid_grant', 'an assertion may live an hour at most');
        this.assertions.push(payload);
      } catch (error) {
        return googleError(400, 'invalid_grant', String(error));
      }
      const token = `ya29.${randomUUID()}`;
      this.issued.set(token, this.now() + this.expiresInSeconds * 1000);
      return reply(200, { access_token: token, expires_in: this.expiresInSeconds, token_type: 'Bearer' });
    }

    if (req.method === 'POST' && req.url === `/v1/projects/${PROJECT}/messages:send`) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const expiresAt = bearer === undefined ? undefined : this.issued.get(bearer);
      if (bearer === undefined || expiresAt === undefined || this.now() >= expiresAt) return googleError(401, 'UNAUTHENTICATED', 'no live access token');
      let parsed;
      try {
        parsed = SendBodySchema.safeParse(JSON.parse(body));
      } catch {
        return googleError(400, 'INVALID_ARGUMENT', 'not JSON');
      }
      if (!parsed.success) return googleError(400, 'INVALID_ARGUMENT', parsed.error.message, 'INVALID_ARGUMENT');
      const request: FcmRequest = { message: parsed.data.message, accessToken: bearer, at: this.now() };
      this.requests.push(request);
      const scripted = this.script(request);
      if (scripted?.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
      if (scripted === undefined || scripted.status === 200) return reply(200, { name: `projects/${PROJECT}/messages/${randomUUID()}` });
      const statusName = scripted.status === 404 ? 'NOT_FOUND' : scripted.status === 429 ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE';
      return reply(
        scripted.status,
        {
          error: {
            code: scripted.status,
            message: 'scripted',
            status: statusName,
            details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: scripted.errorCode ?? statusName }],
          },
        },
        scripted.headers,
      );
    }

    return googleError(404, 'NOT_FOUND', `${req.method} ${req.url}`);
  }
}
