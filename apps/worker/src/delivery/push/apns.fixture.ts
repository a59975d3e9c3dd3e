import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createSecureServer } from 'node:http2';
import type { Http2Server, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { APNS_MAX_PAYLOAD_BYTES } from './apns.js';
import { testCertificate } from './tls.fixture.js';

/** A request the stand-in took, after checking it as APNs does. */
export interface ApnsRequest {
  deviceToken: string;
  jwt: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Which connection it came on (1, 2, … in the order they were opened). */
  session: number;
  at: number;
}

/** How the stand-in answers a request that passed its checks; undefined: 200. `delayMs: Infinity` never answers. */
export type ApnsScript = (request: ApnsRequest) => { status: number; reason?: string; headers?: Record<string, string>; delayMs?: number } | undefined;

export interface FakeApnsOptions {
  teamId: string;
  keyId: string;
  /** The public half of the signing key: provider tokens must verify against it. */
  publicKey: KeyObject;
  topic: string;
  now?: () => number;
}

/**
 * A local stand-in for APNs speaking its protocol: HTTP/2 over TLS (a self-signed certificate,
 * see `ca`), `POST /3/device/<token>`, the provider token checked as Apple does (ES256 signature,
 * `kid`, `iss`, `iat` younger than an hour), the background push headers and payload checked
 * too. A request failing a check gets APNs's answer for it and is listed in `refused`.
 */
export class FakeApns {
  readonly requests: ApnsRequest[] = [];
  readonly refused: string[] = [];
  /** Connections opened so far. */
  sessions = 0;
  /** Requests being answered at once, and the most seen. */
  inFlight = 0;
  maxInFlight = 0;
  script: ApnsScript = () => undefined;
  readonly ca = testCertificate().cert;
  private readonly open = new Set<Http2Session>();
  private readonly server: Http2Server;
  private readonly now: () => number;

  private constructor(private readonly options: FakeApnsOptions) {
    const { key, cert } = testCertificate();
    this.now = options.now ?? Date.now;
    this.server = createSecureServer({ key, cert, allowHTTP1: false });
    this.server.on('session', (session) => {
      this.sessions++;
      const id = this.sessions;
      this.open.add(session);
      session.on('close', () => this.open.delete(session));
      session.on('error', () => undefined);
      session.on('stream', (stream, headers) => void this.handle(id, stream, headers));
    });
  }

  static async start(options: FakeApnsOptions): Promise<FakeApns> {
    const fake = new FakeApns(options);
    fake.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => fake.server.once('listening', resolve));
    return fake;
  }

  get url(): string {
    return `https://localhost:${(this.server.address() as AddressInfo).port}`;
  }

  /** Tells every open connection to go away, as APNs does before it closes one. */
  goAway(): void {
    for (const session of this.open) session.close();
  }

  async close(): Promise<void> {
    for (const session of this.open) session.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(session: number, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    stream.on('error', () => undefined);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const answer = (status: number, reason?: string, extra: Record<string, string> = {}) => {
      this.inFlight--;
      if (stream.destroyed) return;
      stream.respond({ ':status': status, 'apns-id': randomUUID(), ...extra });
      stream.end(reason === undefined ? undefined : JSON.stringify({ reason }));
    };
    const refuse = (status: number, reason: string, why: string) => {
      this.refused.push(`${reason}: ${why}`);
      answer(status, reason);
    };

    const path = /^\/3\/device\/([A-Za-z0-9-]+)$/.exec(String(headers[':path']));
    if (headers[':method'] !== 'POST') return refuse(405, 'MethodNotAllowed', String(headers[':method']));
    if (path === null) return refuse(404, 'BadPath', String(headers[':path']));
    const auth = /^bearer (.+)$/.exec(String(headers['authorization'] ?? ''));
    if (auth === null) return refuse(403, 'MissingProviderToken', 'no bearer token');
    const jwt = auth[1]!;
    try {
      const header = decodeProtectedHeader(jwt);
      if (header.alg !== 'ES256' || header.kid !== this.options.keyId) return refuse(403, 'InvalidProviderToken', `header ${JSON.stringify(header)}`);
      const { payload } = await jwtVerify(jwt, this.options.publicKey, {
        algorithms: ['ES256'],
        issuer: this.options.teamId,
        currentDate: new Date(this.now()),
        maxTokenAge: 3600,
      });
      if (Object.keys(payload).sort().join() !== 'iat,iss') return refuse(403, 'InvalidProviderToken', `claims ${JSON.stringify(payload)}`);
    } catch (error) {
      const expired = error instanceof Error && /iat|exp|age/i.test(error.message);
      return refuse(403, expired ? 'ExpiredProviderToken' : 'InvalidProviderToken', String(error));
    }
    if (headers['apns-topic'] !== this.options.topic) return refuse(400, 'BadTopic', String(headers['apns-topic']));
    if (headers['apns-push-type'] !== 'background') return refuse(400, 'InvalidPushType', String(headers['apns-push-type']));
    if (headers['apns-priority'] !== '5') return refuse(400, 'BadPriority', String(headers['apns-priority']));
    if (raw.length > APNS_MAX_PAYLOAD_BYTES) return refuse(413, 'PayloadTooLarge', `${raw.length} bytes`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return refuse(400, 'BadPayload', raw.toString('utf8'));
    }
    if (JSON.stringify(body['aps']) !== '{"content-available":1}') return refuse(400, 'BadPayload', `aps ${JSON.stringify(body['aps'])}`);

    const request: ApnsRequest = { deviceToken: path[1]!, jwt, headers, body, session, at: this.now() };
    this.requests.push(request);
    const scripted = this.script(request);
    if (scripted?.delayMs === Infinity) return;
    if (scripted?.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
    answer(scripted?.status ?? 200, scripted?.reason, scripted?.headers);
  }
}
