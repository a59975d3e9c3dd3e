import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { createServer as createTcpServer, connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { HeraldClientEvents, TypedEmitter } from '@herald/client';
import { History } from '@herald/history';
import { createKeys } from '@herald/redis';
import { waitFor } from '@herald/testing';
import type { Stack } from './stack.fixture.js';

/**
 * Helpers for the SDK and CLI end-to-end specs: small real proxies to put in front of the real
 * stack (count requests, answer a few of them with a failure, cut the network), and waits.
 */

/** One request that went through an `HttpProxy`. */
export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `Date.now()` when it arrived. */
  at: number;
  /** What answered it: the target, or a scripted answer. */
  answeredBy: 'target' | 'script';
}

/** What the proxy does with the next request instead of forwarding it. */
export type ScriptedAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Forwards the request, then drops the connection instead of answering: the answer is lost. */
  | { dropAnswer: true }
  /** Answers with the previous answer the target gave (a stale cache); waits for one when there is none yet. */
  | { replayPrevious: true };

/**
 * An HTTP proxy in front of a real Herald app: records every request and forwards it, except
 * those matched by a scripted answer (`script(answer, times)`), which it answers itself.
 */
export class HttpProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly scripted: ScriptedAnswer[] = [];
  private previous: { status: number; headers: IncomingHttpHeaders; body: Buffer } | undefined;
  private readonly sockets = new Set<Socket>();
  url = '';

  private constructor(
    private readonly target: URL,
    private readonly server: Server,
    /** Only requests whose path starts with this are scripted (others are always forwarded). */
    private readonly scriptedPath: string,
  ) {}

  static async start(target: string, scriptedPath = '/'): Promise<HttpProxy> {
    const server = createServer();
    const proxy = new HttpProxy(new URL(target), server, scriptedPath);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => proxy.handle(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks), res));
    });
    server.on('connection', (socket) => {
      proxy.sockets.add(socket);
      socket.once('close', () => proxy.sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return proxy;
  }

  /** The next `times` matching requests get `answer` instead of the target's. */
  script(answer: ScriptedAnswer, times = 1): void {
    for (let i = 0; i < times; i++) this.scripted.push(answer);
  }

  /** Requests to a path starting with `prefix`. */
  requestsTo(prefix: string): ProxiedRequest[] {
    return this.requests.filter((request) => request.path.startsWith(prefix));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    this.server.closeAllConnections();
  }

  private handle(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer, res: ServerResponse): void {
    let answer = path.startsWith(this.scriptedPath) ? this.scripted.shift() : undefined;
    if (answer !== undefined && 'replayPrevious' in answer && this.previous === undefined) {
      this.scripted.unshift(answer);
      answer = undefined;
    }
    const record: ProxiedRequest = { method, path, headers, body: body.toString(), at: Date.now(), answeredBy: 'target' };
    this.requests.push(record);
    if (answer !== undefined && 'status' in answer) {
      record.answeredBy = 'script';
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      return;
    }
    if (answer !== undefined && 'replayPrevious' in answer && this.previous !== undefined) {
      record.answeredBy = 'script';
      res.writeHead(this.previous.status, this.previous.headers);
      res.end(this.previous.body);
      return;
    }
    const upstream = httpRequest(
      { host: this.target.hostname, port: this.target.port, method, path, headers: { ...headers, host: this.target.host } },
      (upstreamRes) => {
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamRes.on('end', () => {
          const answerBody = Buffer.concat(chunks);
          const answerHeaders = { ...upstreamRes.headers };
          delete answerHeaders['transfer-encoding'];
          delete answerHeaders['connection'];
          answerHeaders['content-length'] = String(answerBody.length);
          if (answer !== undefined && 'dropAnswer' in answer) {
            record.answeredBy = 'script';
            res.socket?.destroy();
            return;
          }
          this.previous = { status: upstreamRes.statusCode ?? 502, headers: answerHeaders, body: answerBody };
          res.writeHead(upstreamRes.statusCode ?? 502, answerHeaders);
          res.end(answerBody);
        });
      },
    );
    upstream.on('error', () => res.socket?.destroy());
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  }
}

/**
 * A TCP proxy in front of the gateway, to take the network away from a device: `cut()` drops
 * every connection and refuses new ones (they are accepted and closed at once, so clients back
 * off and retry), `restore()` lets them through again.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private down = false;
  url = '';

  private constructor(private readonly server: ReturnType<typeof createTcpServer>) {}

  static async start(target: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(target);
    const server = createTcpServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client: Socket) => {
      if (proxy.down) {
        client.destroy();
        return;
      }
      const upstream = connect(Number(port), hostname);
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.once('close', () => proxy.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return proxy;
  }

  cut(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    this.server.close();
  }
}

type ClientEmitter = TypedEmitter<HeraldClientEvents>;
type Args<K extends keyof HeraldClientEvents> = Parameters<HeraldClientEvents[K]>;

/** Resolves with the arguments of the next `event` that passes `accept`; rejects after `timeoutMs`. */
export function nextEvent<K extends keyof HeraldClientEvents>(
  emitter: ClientEmitter,
  event: K,
  timeoutMs = 5000,
  accept: (...args: Args<K>) => boolean = () => true,
): Promise<Args<K>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: Args<K>) => {
      if (!accept(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    };
    const off = emitter.on(event, listener as HeraldClientEvents[K]);
  });
}

/** Every emission of `event`, as it happens (the array fills up). */
export function record<K extends keyof HeraldClientEvents>(emitter: ClientEmitter, event: K): Args<K>[] {
  const seen: Args<K>[] = [];
  const listener = (...args: Args<K>) => {
    seen.push(args);
  };
  emitter.on(event, listener as HeraldClientEvents[K]);
  return seen;
}

/** The newest cursor of the account's history. */
export async function newestCursor(stack: Stack, accountId: string): Promise<string> {
  const entries = await stack.redis.client.xrevrange(createKeys(stack.redis.prefix).history(accountId), '+', '-', 'COUNT', 1);
  const newest = entries[0]?.[0];
  if (newest === undefined) throw new Error(`${accountId} has no history`);
  return newest;
}

/** The account's history stream length: how many notifications the worker has routed to it. */
export async function historyLength(stack: Stack, accountId: string): Promise<number> {
  return stack.redis.client.xlen(createKeys(stack.redis.prefix).history(accountId));
}

/** The event ids in the account's history, oldest first. */
export async function historyIds(stack: Stack, accountId: string): Promise<string[]> {
  const records = await new History({ redis: stack.redis.client, keys: createKeys(stack.redis.prefix) }).range(accountId, undefined, 1000);
  return records.map((record) => record.entry.id);
}

/** Waits until the worker has routed `count` notifications into the account's history. */
export async function waitForHistory(stack: Stack, accountId: string, count: number, timeoutMs = 5000): Promise<void> {
  await waitFor(`${accountId} has ${count} notifications in its history`, async () => (await historyLength(stack, accountId)) >= count, {
    timeoutMs: timeoutMs,
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
