import { expect } from 'chai';
import type { TapRecord } from '@herald/contracts';
import { createKeys } from '@herald/redis';
import { useTestRedis } from '@herald/testing';
import { EventTraces } from './event-traces.js';
import { TraceBuckets } from './trace-buckets.js';
import { TraceRecorder } from './trace-recorder.js';

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

describe('trace recorder and reader: delivery records per job', () => {
  const redis = useTestRedis();

  function setup() {
    const keys = createKeys(redis.prefix);
    const buckets = new TraceBuckets(keys, HOUR);
    const recorder = new TraceRecorder(redis.client, keys, buckets);
    const reader = new EventTraces({ redis: redis.client, keys, partitions: { high: 1, medium: 1, low: 1 }, windowMs: HOUR, dedupWindowMs: HOUR });
    return { recorder, reader, traceKey: buckets.key('high', 0, Date.now()) };
  }

  it("shows each event of a batch pushed to its own devices when the batch's jobs record one push each", async () => {
    const { recorder, reader, traceKey } = setup();
    const at = Date.now();
    const deliveries = new Map([
      ['e1', { batch: 'b1', devices: { web: ['web-1'], tv: ['tv-1'], ios: ['ios-1'] } }],
      ['e2', { batch: 'b1', devices: { web: ['web-1'] } }],
    ]);
    await redis.client.hset(traceKey, ...recorder.routingFields([routed('e1', at), routed('e2', at)], deliveries));
    await recorder.recordPushes(traceKey, 'web', 'b1', at + 5);
    await recorder.recordPushes(traceKey, 'ios', 'b1', at + 7);

    const first = await reader.read('e1');
    expect(first?.pushes).to.have.deep.members([
      { deviceId: 'web-1', platform: 'web', at: new Date(at + 5).toISOString() },
      { deviceId: 'ios-1', platform: 'ios', at: new Date(at + 7).toISOString() },
    ]);
    expect(first?.gates.find((gate) => gate.gate === 'online')?.devices).to.deep.equal(['web-1', 'tv-1']);
    const second = await reader.read('e2');
    expect(second?.pushes).to.deep.equal([{ deviceId: 'web-1', platform: 'web', at: new Date(at + 5).toISOString() }]);
    expect(second?.failures).to.deep.equal([]);
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

  it('still reads the per-event push records that versions before per-job records wrote', async () => {
    const { reader, traceKey } = setup();
    const at = Date.now();
    await redis.client.hset(traceKey, 'e1:r', JSON.stringify({ v: 'routed', at, ac: at - 10, a: 'acct', k: `${at}-0`, o: ['web-1'] }), 'e1:p:web', JSON.stringify({ at: at + 3, d: ['web-1'] }));
    const trace = await reader.read('e1');
    expect(trace?.pushes).to.deep.equal([{ deviceId: 'web-1', platform: 'web', at: new Date(at + 3).toISOString() }]);
    expect(trace?.gates.find((gate) => gate.gate === 'online')?.devices).to.deep.equal(['web-1']);
  });
});
