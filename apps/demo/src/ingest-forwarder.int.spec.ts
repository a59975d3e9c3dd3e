import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { HeraldError } from '@herald/contracts';
import { IngestForwarder, UpstreamError } from './ingest-forwarder.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A stand-in for ingest that answers as the test says. */
async function fakeIngest(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function failure(promise: Promise<unknown>): Promise<HeraldError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HeraldError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

const EVENT = { accountId: 'acct', type: 'plan.changed', payload: { plan: 'premium' } };

const forwarder = (ingestUrl: string, serviceKey = 'k') => new IngestForwarder({ ingestUrl, serviceKey, timeoutMs: 5_000 });

/** A stand-in for ingest that records what it was sent and answers `status` with `answer`. */
async function recordingIngest(
  status: number,
  answer: unknown,
): Promise<{ url: string; server: Server; seen: () => { path: string | undefined; authorization: string | undefined; body: string } | undefined }> {
  let seen: { path: string | undefined; authorization: string | undefined; body: string } | undefined;
  const ingest = await fakeIngest((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen = { path: req.url, authorization: req.headers.authorization, body };
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  return { ...ingest, seen: () => seen };
}

describe('IngestForwarder (the demo page’s way into ingest)', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
    server = undefined;
  });

  it('sends the event with the service key and returns ingest’s 202 body', async () => {
    const ingest = await recordingIngest(202, { id: 'e1', status: 'accepted', priority: 'high' });
    server = ingest.server;
    const sent = await forwarder(ingest.url, 'demo-key-123').send(EVENT);
    expect(sent).to.deep.equal({ id: 'e1', status: 'accepted', priority: 'high' });
    expect(ingest.seen()).to.include({ path: '/v1/events', authorization: 'Bearer demo-key-123' });
    expect(JSON.parse(ingest.seen()?.body ?? '')).to.deep.equal(EVENT);
  });

  it('registers a device with the service key and returns ingest’s 201 body', async () => {
    const ingest = await recordingIngest(201, { deviceId: 'tv-1', token: 'a.b.c' });
    server = ingest.server;
    const device = { accountId: 'acct', platform: 'tv' as const, deviceId: 'tv-1' };
    expect(await forwarder(ingest.url, 'demo-key-123').registerDevice(device)).to.deep.equal({ deviceId: 'tv-1', token: 'a.b.c' });
    expect(ingest.seen()).to.include({ path: '/v1/devices', authorization: 'Bearer demo-key-123' });
    expect(JSON.parse(ingest.seen()?.body ?? '')).to.deep.equal(device);
  });

  it('passes on ingest’s own 4xx, with its details and Retry-After', async () => {
    const ingest = await fakeIngest((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end(JSON.stringify({ error: { code: 'backlog_exceeded', message: 'The high priority is over its backlog limit.' } }));
    });
    server = ingest.server;
    const error = await failure(forwarder(ingest.url).send(EVENT));
    expect(error).not.to.be.instanceOf(UpstreamError);
    expect(error.status).to.equal(429);
    expect(error.code).to.equal('backlog_exceeded');
    expect(error.retryAfterSeconds).to.equal(3);
  });

  it('answers 502 when ingest refuses the service key, saying to share HERALD_SERVICE_KEYS', async () => {
    const ingest = await fakeIngest((_req, res) => {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'unauthorized', message: 'The service key is not valid.' } }));
    });
    server = ingest.server;
    const error = await failure(forwarder(ingest.url, 'wrong-key').send(EVENT));
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error.status).to.equal(502);
    expect(error.toJSON().error.code).to.equal('unavailable');
    expect(error.message).to.contain('HERALD_SERVICE_KEYS');
  });

  it('answers 502 when ingest fails, answers nonsense or not in time', async () => {
    let mode: 'fail' | 'nonsense' | 'silent' = 'fail';
    const ingest = await fakeIngest((_req, res) => {
      if (mode === 'fail')
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 'internal', message: 'Something went wrong on our side.' } }));
      else if (mode === 'nonsense') res.writeHead(202, { 'content-type': 'text/html' }).end('<html>a proxy page</html>');
      // silent: never answers
    });
    server = ingest.server;
    const forwarder = new IngestForwarder({ ingestUrl: ingest.url, serviceKey: 'k', timeoutMs: 200 });

    const failed = await failure(forwarder.send(EVENT));
    expect(failed.status).to.equal(502);
    expect(failed.message).to.contain('500').and.contain('Something went wrong');

    mode = 'nonsense';
    const nonsense = await failure(forwarder.send(EVENT));
    expect(nonsense.status).to.equal(502);
    expect(nonsense.message).to.contain('does not understand');

    mode = 'silent';
    const silent = await failure(forwarder.send(EVENT));
    expect(silent.status).to.equal(502);
    expect(silent.message).to.contain('no answer within 200 ms');
  });
});
