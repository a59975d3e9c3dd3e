import { expect } from 'chai';
import { EventTraceSchema, TapRecordSchema } from '@herald/contracts';
import type { TapRecord } from '@herald/contracts';
import { createKeys } from '@herald/redis';
import { waitFor } from '@herald/testing';
import { TraceBuckets, TraceRecorder } from '@herald/trace';
import { acceptedEvent, useDashboard } from './dashboard.fixture.js';
import type { RunningDashboard } from './dashboard.fixture.js';

interface SseEvent {
  event: string;
  data: unknown;
}

/** A browser's EventSource, reduced to what the tests read: the events so far, and hanging up. */
class SseClient {
  readonly events: SseEvent[] = [];
  ended = false;
  private readonly controller = new AbortController();

  static async open(running: RunningDashboard, path: string): Promise<SseClient> {
    const client = new SseClient();
    const res = await running.request(path, { signal: client.controller.signal, headers: { accept: 'text/event-stream' } });
    expect(res.status, path).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
    void client.read(res.body!);
    await client.next('ready');
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) this.events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // hung up
    }
    this.ended = true;
  }

  async next(event: string, count = 1): Promise<SseEvent[]> {
    await waitFor(`${count} "${event}" event(s)`, () => this.named(event).length >= count, { timeoutMs: 3000 });
    return this.named(event);
  }

  named(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  close(): void {
    this.controller.abort();
  }
}

function record(id: string, accountId: string, extra: Partial<TapRecord> = {}): TapRecord {
  const at = Date.now();
  return {
    id,
    type: 'plan.changed',
    accountId,
    priority: 'high',
    createdAt: at,
    acceptedAt: at,
    routedAt: at,
    verdict: 'routed',
    cursor: `${at}-0`,
    targeted: ['tv-1', 'web-1'],
    online: ['tv-1'],
    ...extra,
  };
}

describe('dashboard live tap and event traces', () => {
  const dashboard = useDashboard();
  const WINDOW_MS = 3_600_000;

  /** The dashboard's tap connections (each blocks on XREAD of the tap stream). */
  async function tapConnections(): Promise<string[]> {
    const list = (await dashboard.redis.client.client('LIST')) as string;
    return list.split('\n').filter((line) => line.includes('name=herald-dashboard-tap '));
  }
  /** Waits until `count` taps are blocked reading, so records published now reach them. */
  const tapsListening = (count: number) =>
    waitFor(`${count} tap(s) reading`, async () => (await tapConnections()).filter((line) => line.includes('cmd=xread')).length === count, { timeoutMs: 3000 });

  function recorder(): TraceRecorder {
    const keys = createKeys(dashboard.redis.prefix);
    return new TraceRecorder(dashboard.redis.client, keys, new TraceBuckets(keys, WINDOW_MS));
  }

  it("streams routing verdicts as they happen, and only one account's when filtered", async () => {
    const running = await dashboard.start();
    const all = await SseClient.open(running, '/admin/api/tap');
    const onlyB = await SseClient.open(running, '/admin/api/tap?accountId=acct-b');
    expect(onlyB.named('ready')[0]!.data).to.deep.equal({ accountId: 'acct-b' });
    await tapsListening(2);

    await recorder().publishTap([record('e1', 'acct-a'), record('e2', 'acct-b', { verdict: 'stale', cursor: undefined, targeted: [], online: [] })]);
    await recorder().publishTap([record('e3', 'acct-a', { verdict: 'no_targets', targeted: [] })]);
    const seen = await all.next('tap', 3);
    expect(seen.map((e) => TapRecordSchema.parse(e.data)).map((r) => [r.id, r.verdict])).to.deep.equal([
      ['e1', 'routed'],
      ['e2', 'stale'],
      ['e3', 'no_targets'],
    ]);
    const [b] = await onlyB.next('tap');
    expect(TapRecordSchema.parse(b!.data)).to.include({ id: 'e2', accountId: 'acct-b' });
    // A marker of acct-b's on the one tap stream: had e3 (acct-a's) reached the filtered tap, it would be before it.
    await recorder().publishTap([record('e4', 'acct-b')]);
    await onlyB.next('tap', 2);
    expect(onlyB.named('tap').map((e) => TapRecordSchema.parse(e.data).id)).to.deep.equal(['e2', 'e4']);
  });

  it("closes its tap and the tap's Redis connection when the browser disconnects", async () => {
    const running = await dashboard.start();
    const client = await SseClient.open(running, '/admin/api/tap');
    await tapsListening(1);
    client.close();
    await waitFor('the tap connection to close', async () => (await tapConnections()).length === 0, { timeoutMs: 3000 });
  });

  it('ends the live taps when the dashboard shuts down', async () => {
    const running = await dashboard.start();
    const client = await SseClient.open(running, '/admin/api/tap');
    await tapsListening(1);
    await running.app.close();
    await waitFor('the stream to end', () => client.ended, { timeoutMs: 3000 });
    await waitFor('the tap connection to close', async () => (await tapConnections()).length === 0, { timeoutMs: 3000 });
  });

  it('answers HEAD on the tap without opening one', async () => {
    const running = await dashboard.start();
    const res = await running.request('/admin/api/tap', { method: 'HEAD' });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
    expect(await tapConnections()).to.have.length(0);
  });

  it('refuses a bad tap filter with 400 invalid_request naming the problem', async () => {
    const running = await dashboard.start();
    for (const query of ['accountId=', `accountId=${'x'.repeat(129)}`, 'accountId=a&accountId=b', 'account=acct-1']) {
      const res = await running.request(`/admin/api/tap?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      const body = (await res.json()) as { error: { code: string; message: string; details: { path: string; message: string }[] } };
      expect(body.error.code, query).to.equal('invalid_request');
      expect(body.error.message).to.equal('The tap filter is invalid.');
      expect(body.error.details, query).to.have.length.greaterThan(0);
    }
    expect(await tapConnections()).to.have.length(0);
  });

  it('refuses one tap more than the limit with 429', async () => {
    const running = await dashboard.start({}, { maxTaps: 1 });
    const open = await SseClient.open(running, '/admin/api/tap');
    const res = await running.request('/admin/api/tap');
    expect(res.status).to.equal(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('rate_limited');
    open.close();
  });

  it("looks up an event's trace: queued once ingest accepted it, then routed with each gate's verdict", async () => {
    const running = await dashboard.start();
    const streams = dashboard.streams();
    await streams.append([acceptedEvent('evt-42', 'acct-a')]);
    const queued = await running.request('/admin/api/events/evt-42');
    expect(queued.status).to.equal(200);
    expect(EventTraceSchema.parse(await queued.json())).to.include({ id: 'evt-42', priority: 'high', status: 'queued' });

    // What the router writes with its acknowledgement.
    const traces = recorder();
    const key = traces.buckets.key('high', streams.partitionOf('high', 'acct-a'), Date.now());
    await dashboard.redis.client.hset(
      key,
      ...traces.routingFields([record('evt-42', 'acct-a')], new Map([['evt-42', { batch: 'b-1', devices: { tv: ['tv-1'] } }]])),
    );
    const routed = EventTraceSchema.parse(await (await running.request('/admin/api/events/evt-42')).json());
    expect(routed.status).to.equal('routed');
    expect(routed.gates.map((g) => [g.gate, g.verdict])).to.deep.equal([
      ['stale', 'passed'],
      ['duplicate', 'passed'],
      ['targeting', 'passed'],
      ['history', 'passed'],
      ['online', 'passed'],
    ]);
    expect(routed.gates.find((g) => g.gate === 'online')?.devices).to.deep.equal(['tv-1']);
  });

  it('answers 404 for an event it keeps no trace of, and 400 for a malformed event id', async () => {
    const running = await dashboard.start();
    const unknown = await running.request('/admin/api/events/never-seen');
    expect(unknown.status).to.equal(404);
    const body = (await unknown.json()) as { error: { code: string; message: string } };
    expect(body.error.code).to.equal('not_found');
    expect(body.error.message).to.contain('never-seen');

    const malformed = await running.request(`/admin/api/events/${encodeURIComponent('bad id{}')}`);
    expect(malformed.status).to.equal(400);
    const invalid = (await malformed.json()) as { error: { code: string; details: { path: string }[] } };
    expect(invalid.error.code).to.equal('invalid_request');
    expect(invalid.error.details[0]?.path).to.equal('id');
  });

  it('serves the tap page, which follows the tap over SSE and looks traces up', async () => {
    const res = await (await dashboard.start()).request('/admin/tap');
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(html).to.contain("new EventSource(api('/admin/api/tap'");
    expect(html).to.contain("fetch(api('/admin/api/events/'");
  });
});
