import { expect } from 'chai';
import type { TapRecord } from '@herald/contracts';
import { createKeys } from '@herald/redis';
import { useTestRedis } from '@herald/testing';
import { EventTraces } from './event-traces.js';
import { LiveSentBatch } from './live-sent.js';
import { TraceBuckets } from './trace-buckets.js';
import { TraceRecorder } from './trace-recorder.js';
import { traceField } from './trace-records.js';

const HOUR = 3_600_000;

function routed(id: string, routedAt: number): TapRecord {
  return {
    id,
    type: 'plan.changed',
    accountId: 'acct',
    priority: 'high',
    createdAt: routedAt - 20,
    acceptedAt: routedAt - 10,
    routedAt,
    verdict: 'routed',
    cursor: `${routedAt}-0`,
    targeted: ['web-1', 'tv-1', 'ios-1'],
    online: ['web-1', 'tv-1'],
  };
}

describe('trace recorder and reader: what reached each device', () => {
  const redis = useTestRedis();

  function setup() {
    const keys = createKeys(redis.prefix);
    const buckets = new TraceBuckets(keys, HOUR);
    const recorder = new TraceRecorder(redis.client, keys, buckets);
    const reader = new EventTraces({ redis: redis.client, keys, partitions: { high: 1, medium: 1, low: 1 }, windowMs: HOUR, dedupWindowMs: HOUR });
    return { recorder, reader, keys, traceKey: buckets.key('high', 0, Date.now()) };
  }

  it("lists as pushes what the gateways sent to web and TV devices, and each mobile job's signals for its own devices", async () => {
    const { recorder, reader, traceKey, keys } = setup();
    const at = Date.now();
    // e1 is push 0 of the web job (devices web-1, web-2) and push 0 of the TV job; e2 push 1
    // of the web job; e3 push 100 of the web job, the first push of its second message.
    const deliveries = new Map([
      ['e1', { batch: 'b1', devices: { web: ['web-1', 'web-2'], tv: ['tv-1'], ios: ['ios-1'] }, live: { web: 0, tv: 0 } }],
      ['e2', { batch: 'b1', devices: { web: ['web-1'] }, live: { web: 1 } }],
      ['e3', { batch: 'b1', devices: { web: ['web-3'] }, live: { web: 100 } }],
    ]);
    await redis.client.hset(traceKey, ...recorder.routingFields([routed('e1', at), routed('e2', at), routed('e3', at)], deliveries));
    const message = (platform: 'web' | 'tv', index: number) => ({ key: traceKey, field: traceField.liveSent('b1', platform, index) });
    // Two gateway nodes: one sent e1 to web-2 (device 1 of its push), the other sent e1 to
    // web-1 and e3 to web-3, in writes of their own to the same message fields; e1 reached
    // tv-1 from history (it reconnected); e2 was not sent (a duplicate, say).
    const nodeA = new LiveSentBatch();
    nodeA.add(message('web', 0), 0, 1);
    await Promise.all(nodeA.write(redis.client, at + 4, HOUR));
    const nodeB = new LiveSentBatch();
    nodeB.add(message('web', 0), 0, 0);
    nodeB.add(message('web', 1), 0, 0);
    await Promise.all(nodeB.write(redis.client, at + 5, HOUR));
    await redis.client.hset(keys.trace('e1'), 'sent:tv:tv-1', at + 8, 'ack:web-1', at + 6, 'sent:bogus:x', at);
    await recorder.recordPushes(traceKey, 'ios', 'b1', at + 7);

    const first = await reader.read('e1');
    expect(first?.pushes).to.deep.equal([
      { deviceId: 'web-2', platform: 'web', at: new Date(at + 4).toISOString() },
      { deviceId: 'web-1', platform: 'web', at: new Date(at + 5).toISOString() },
      { deviceId: 'ios-1', platform: 'ios', at: new Date(at + 7).toISOString() },
      { deviceId: 'tv-1', platform: 'tv', at: new Date(at + 8).toISOString() },
    ]);
    expect(first?.acks).to.deep.equal([{ deviceId: 'web-1', at: new Date(at + 6).toISOString() }]);
    expect(first?.gates.find((gate) => gate.gate === 'online')?.devices).to.deep.equal(['web-1', 'web-2', 'tv-1']);
    const second = await reader.read('e2');
    expect(second?.pushes, 'not sent').to.deep.equal([]);
    expect(second?.failures).to.deep.equal([]);
    expect((await reader.read('e3'))?.pushes, 'in the second message').to.deep.equal([
      { deviceId: 'web-3', platform: 'web', at: new Date(at + 5).toISOString() },
    ]);
    expect(await redis.client.hlen(traceKey), 'one field per live message, not one per device').to.equal(3 + 1 + 2);
  });

  it('gives a trace hash first written by a gateway a lifetime', async () => {
    const { traceKey } = setup();
    const batch = new LiveSentBatch();
    batch.add({ key: traceKey, field: traceField.liveSent('b9', 'web', 0) }, 3, 0);
    await Promise.all(batch.write(redis.client, Date.now(), HOUR));
    expect(await redis.client.pttl(traceKey)).to.be.within(HOUR - 60_000, HOUR);
  });

  it('shows a job that failed for good on every event it carried, and writes one field for it', async () => {
    const { recorder, reader, traceKey } = setup();
    const at = Date.now();
    await redis.client.hset(traceKey, ...recorder.routingFields([routed('e1', at)], new Map([['e1', { batch: 'b2', devices: { ios: ['ios-1'] } }]])));
    const fieldsBefore = await redis.client.hlen(traceKey);
    await recorder.recordFailure(traceKey, 'ios', 'b2', 'webhook answered 503', at + 9);
    expect(await redis.client.hlen(traceKey)).to.equal(fieldsBefore + 1);
    const trace = await reader.read('e1');
    expect(trace?.failures).to.deep.equal([{ platform: 'ios', at: new Date(at + 9).toISOString(), error: 'webhook answered 503' }]);
    expect(trace?.pushes).to.deep.equal([]);
  });
});
