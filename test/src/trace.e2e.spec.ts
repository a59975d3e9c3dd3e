import { expect } from 'chai';
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { EventTraceSchema } from '@herald/contracts';
import type { EventTrace, Notification, TapRecord } from '@herald/contracts';
import { createKeys, createRedis, closeRedis, scanKeys } from '@herald/redis';
import { waitFor } from '@herald/testing';
import { EventTraces } from '@herald/trace';
import { useStack } from './stack.fixture.js';
import type { Stack } from './stack.fixture.js';

async function getTrace(stack: Stack, id: string, headers = stack.serviceHeaders): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${stack.ingestUrl}/v1/events/${encodeURIComponent(id)}`, { headers });
  return { status: response.status, body: await response.json() };
}

/** The trace once `done` holds for it (the trace fills in as the event moves on). */
function traceWhen(stack: Stack, id: string, done: (trace: EventTrace) => boolean): Promise<EventTrace> {
  return waitFor(`the trace of ${id}`, async () => {
    const { status, body } = await getTrace(stack, id);
    if (status !== 200) return false;
    const trace = EventTraceSchema.parse(body);
    return done(trace) && trace;
  });
}

describe('event trace: GET /v1/events/:id', function () {
  this.timeout(20_000);
  const stack = useStack();
  const sockets: Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((socket) => socket.disconnect()));

  async function online(token: string): Promise<Notification[]> {
    const received: Notification[] = [];
    const socket = io(stack.gatewayUrl, { auth: { token }, transports: ['websocket'] });
    sockets.push(socket);
    // Acknowledge through the emit's callback, as the SDK does.
    socket.on('notification', (notification: Notification, ack?: () => void) => {
      received.push(notification);
      ack?.();
    });
    await new Promise((resolve) => socket.once('synced', resolve));
    return received;
  }

  it('shows acceptance, each gate, the cursor, the devices pushed to and those that acknowledged', async () => {
    const web = await stack.registerDevice({ accountId: 'acct-t', platform: 'web', deviceId: 'web-1' });
    await stack.registerDevice({ accountId: 'acct-t', platform: 'tv', deviceId: 'tv-1' });
    await stack.registerDevice({ accountId: 'acct-t', platform: 'ios', deviceId: 'ios-1' });
    const received = await online(web.token);
    const before = Date.now();
    const { id } = await stack.send({ id: 'evt-trace-1', type: 'plan.changed', accountId: 'acct-t', payload: { plan: 'basic' } });
    await waitFor('the notification', () => received.length > 0);

    const trace = await traceWhen(stack, id, (t) => t.acks.length > 0 && t.pushes.length >= 2);
    expect(trace).to.include({
      id,
      priority: 'high',
      status: 'routed',
      verdict: 'routed',
      type: 'plan.changed',
      accountId: 'acct-t',
      cursor: received[0]!.cursor,
    });
    expect(Date.parse(trace.acceptedAt!)).to.be.within(before - 1000, Date.now());
    expect(Date.parse(trace.routedAt!)).to.be.at.least(Date.parse(trace.acceptedAt!));
    const [targeting, ...others] = trace.gates.splice(2, 1).concat(trace.gates);
    expect(targeting).to.include({ gate: 'targeting', verdict: 'passed' });
    expect(targeting!.devices).to.have.members(['web-1', 'tv-1', 'ios-1']);
    expect(others).to.deep.equal([
      { gate: 'stale', verdict: 'passed' },
      { gate: 'duplicate', verdict: 'passed' },
      { gate: 'history', verdict: 'passed', cursor: received[0]!.cursor },
      { gate: 'online', verdict: 'passed', devices: ['web-1'] },
    ]);
    expect(trace.pushes.map(({ deviceId, platform }) => ({ deviceId, platform }))).to.have.deep.members([
      { deviceId: 'web-1', platform: 'web' },
      { deviceId: 'ios-1', platform: 'ios' },
    ]);
    expect(trace.acks.map((ack) => ack.deviceId)).to.deep.equal(['web-1']);
    expect(trace.failures).to.deep.equal([]);
  });

  it('says which gate dropped an event: stale, then no targets', async () => {
    await stack.registerDevice({ accountId: 'acct-d', platform: 'web', deviceId: 'web-1' });
    const stale = await stack.send({ type: 'recommendations.updated', accountId: 'acct-d', createdAt: Date.now() - 3_600_000 });
    const untargeted = await stack.send({ type: 'plan.changed', accountId: 'acct-d', targets: { deviceIds: ['no-such-device'] } });

    const staleTrace = await traceWhen(stack, stale.id, (t) => t.status !== 'queued');
    expect(staleTrace).to.include({ status: 'dropped', priority: 'low' });
    expect(staleTrace.gates.map((g) => g.verdict)).to.deep.equal(['dropped', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(staleTrace.cursor).to.equal(undefined);

    expect(staleTrace.verdict).to.equal('stale');
    expect(staleTrace.gates[0]!.reason).to.match(/^older than its type's staleAfterMs when it was routed \(created \d+ ms before\)$/);

    const untargetedTrace = await traceWhen(stack, untargeted.id, (t) => t.status !== 'queued');
    expect(untargetedTrace).to.include({ status: 'dropped', verdict: 'no_targets' });
    expect(untargetedTrace.gates.map((g) => `${g.gate}:${g.verdict}`)).to.deep.equal([
      'stale:passed',
      'duplicate:passed',
      'targeting:dropped',
      'history:skipped',
      'online:skipped',
    ]);
    expect(untargetedTrace.gates[2]!.reason).to.equal("none of the account's devices matches its type's platforms or the event's targets");
    expect(untargetedTrace.pushes).to.deep.equal([]);
  });

  it('says why targeting dropped an event for an account without devices, and why the later gates were skipped (regression: "targeting dropped, history skipped" with no reason)', async () => {
    const { id } = await stack.send({ type: 'plan.changed', accountId: 'acct-nobody' });
    const trace = await traceWhen(stack, id, (t) => t.status !== 'queued');
    expect(trace).to.include({ status: 'dropped', verdict: 'no_targets' });
    expect(trace.gates.slice(2).map(({ gate, verdict, reason }) => ({ gate, verdict, reason }))).to.deep.equal([
      { gate: 'targeting', verdict: 'dropped', reason: 'no devices registered for this account' },
      { gate: 'history', verdict: 'skipped', reason: 'not reached: the targeting gate dropped the event (no_targets)' },
      { gate: 'online', verdict: 'skipped', reason: 'not reached: the targeting gate dropped the event (no_targets)' },
    ]);
  });

  it('answers 404 for an unknown id, 400 for an invalid one and 401 without a service key', async () => {
    const unknown = await getTrace(stack, 'never-sent');
    expect(unknown.status).to.equal(404);
    expect(unknown.body).to.have.nested.property('error.code', 'not_found');

    const invalid = await getTrace(stack, 'bad id with spaces');
    expect(invalid.status).to.equal(400);
    expect(invalid.body).to.have.nested.property('error.code', 'invalid_request');
    expect(invalid.body).to.have.nested.property('error.details[0].path');

    const anonymous = await getTrace(stack, 'never-sent', {});
    expect(anonymous.status).to.equal(401);
  });

  it('streams routing verdicts on the live tap, filtered by account', async () => {
    const { redis, config } = stack;
    const traces = new EventTraces({
      redis: redis.client,
      keys: createKeys(redis.prefix),
      partitions: { high: 2, medium: 2, low: 2 },
      windowMs: config.traceWindowMs,
      dedupWindowMs: config.dedupWindowMs,
    });
    const tapConnection = createRedis({ url: redis.url });
    const controller = new AbortController();
    const seen: TapRecord[] = [];
    const tapping = (async () => {
      for await (const record of traces.tap({ redis: tapConnection, accountId: 'acct-tap', signal: controller.signal, blockMs: 100 })) seen.push(record);
    })();
    try {
      // The tap starts from "now": wait until its XREAD is blocked before sending.
      await waitFor('the tap to block', async () => ((await redis.client.client('LIST')) as string).includes('cmd=xread'));
      await stack.registerDevice({ accountId: 'acct-tap', platform: 'web', deviceId: 'web-1' });
      const other = await stack.send({ type: 'plan.changed', accountId: 'acct-other' });
      const mine = await stack.send({ type: 'plan.changed', accountId: 'acct-tap' });
      await waitFor('a tap record', () => seen.length > 0);
      expect(seen.map((r) => r.id)).to.deep.equal([mine.id]);
      expect(seen[0]).to.include({ accountId: 'acct-tap', verdict: 'routed', priority: 'high', type: 'plan.changed' });
      expect(seen[0]!.targeted).to.deep.equal(['web-1']);
      expect(seen.some((r) => r.id === other.id)).to.equal(false);
    } finally {
      controller.abort();
      await tapping;
      await closeRedis(tapConnection);
    }
  });
});

describe('event trace of an event not routed yet', function () {
  this.timeout(20_000);
  // This stack's worker routes high priority only: low-priority events stay queued.
  const stack = useStack({ HERALD_WORKER_PRIORITIES: 'high' });

  it('shows it as queued in its priority, and routed events of the other priority as usual', async () => {
    const { id } = await stack.send({ type: 'recommendations.updated', accountId: 'acct-q', profileId: 'kid' });
    const { status, body } = await getTrace(stack, id);
    expect(status).to.equal(200);
    expect(EventTraceSchema.parse(body)).to.deep.equal({ id, status: 'queued', priority: 'low', gates: [], pushes: [], failures: [], acks: [] });

    const high = await stack.send({ type: 'plan.changed', accountId: 'acct-q' });
    const trace = await traceWhen(stack, high.id, (t) => t.status !== 'queued');
    expect(trace).to.include({ status: 'dropped', priority: 'high', accountId: 'acct-q', type: 'plan.changed' });
  });
});

describe('event trace with tracing off', function () {
  this.timeout(20_000);
  const stack = useStack({ HERALD_TRACE_WINDOW_MS: '0' });

  it('keeps no traces: a delivered, acknowledged event is unknown and no trace key exists', async () => {
    const { token } = await stack.registerDevice({ accountId: 'acct-off', platform: 'web', deviceId: 'web-1' });
    const socket = io(stack.gatewayUrl, { auth: { token }, transports: ['websocket'] });
    try {
      await new Promise((resolve) => socket.once('synced', resolve));
      const acked = new Promise<void>((resolve) =>
        socket.once('notification', (_notification: Notification, ack?: () => void) => {
          ack?.();
          resolve();
        }),
      );
      const { id } = await stack.send({ type: 'plan.changed', accountId: 'acct-off' });
      await acked;
      // The ack is recorded (the device's cursor moves), so a trace write would have happened by now.
      await waitFor('the ack', async () => (await stack.redis.client.hlen(createKeys(stack.redis.prefix).deviceAcks('acct-off'))) === 1);
      expect((await getTrace(stack, id)).status).to.equal(404);
      const keys = [
        ...(await scanKeys(stack.redis.client, `${stack.redis.prefix}:*trace*`)),
        ...(await scanKeys(stack.redis.client, `${stack.redis.prefix}:*tap*`)),
      ];
      expect(keys).to.deep.equal([]);
    } finally {
      socket.disconnect();
    }
  });
});
