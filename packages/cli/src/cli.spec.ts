import { expect } from 'chai';
import { HeraldClientError } from '@herald/client';
import { UsageError, parseOptions } from './cli-error.js';
import { SEND_RETRIES, SendOptionsSchema, buildEvent, describeRetry } from './commands/send.js';
import { formatTrace } from './commands/trace.js';
import { describeError, table } from './output.js';
import { resolveSettings } from './settings.js';

describe('herald send: building the event', () => {
  it('turns options into the event ingest expects', () => {
    const options = parseOptions(SendOptionsSchema, {
      account: 'acct-1',
      profile: 'kids',
      payload: '{"titleId":"t1"}',
      collapseKey: 't1',
      createdAt: '1700000000000',
      platforms: 'web, tv',
    });
    expect(buildEvent('viewing.progress', options)).to.deep.equal({
      type: 'viewing.progress',
      accountId: 'acct-1',
      profileId: 'kids',
      payload: { titleId: 't1' },
      collapseKey: 't1',
      createdAt: 1_700_000_000_000,
      targets: { platforms: ['web', 'tv'] },
    });
  });

  it('refuses a payload that is not a JSON object, and names bad options', () => {
    expect(() => buildEvent('plan.changed', parseOptions(SendOptionsSchema, { account: 'a', payload: '[1]' }))).to.throw(UsageError, /--payload must be a JSON object/);
    expect(() => parseOptions(SendOptionsSchema, { account: 'a', platforms: 'web,fridge' })).to.throw(UsageError, /--platforms/);
    expect(() => parseOptions(SendOptionsSchema, { account: 'a', collapseKey: '' })).to.throw(UsageError, /--collapse-key/);
  });
});

describe('herald send: backing off', () => {
  it('says on stderr that it waits for Retry-After because Herald sheds the event, and which retry it is', () => {
    const error = new HeraldClientError('overloaded', 'Herald is overloaded and sheds low-priority events for now.', { status: 429, retryAfterMs: 3000 });
    expect(describeRetry({ error, delayMs: 3000, attempt: 1, events: 1 })).to.equal(
      `herald: Herald is overloaded and sheds this priority for now (overloaded); retrying in 3.0 s (1 of ${SEND_RETRIES})\n`,
    );
  });

  it('explains a final overloaded refusal: nothing was written, send it again after Retry-After', () => {
    const text = describeError(new HeraldClientError('overloaded', 'Herald is overloaded.', { status: 429, retryAfterMs: 5000 }), { service: 'ingest' });
    expect(text).to.contain('(overloaded, HTTP 429)').and.to.contain('nothing was written').and.to.contain('again in 5 s or later');
  });
});

describe('herald settings', () => {
  it('takes the command line first, then the environment, then the development defaults', () => {
    expect(resolveSettings({ ingest: 'http://a:1' }, { HERALD_INGEST_URL: 'http://b:2', HERALD_GATEWAY_URL: 'http://c:3' })).to.deep.equal({
      ingestUrl: 'http://a:1',
      gatewayUrl: 'http://c:3',
      serviceKey: 'dev-service-key',
    });
    expect(() => resolveSettings({ ingest: 'ftp://x' }, {})).to.throw(UsageError, /--ingest/);
  });

  it('follows INGEST_PORT and GATEWAY_PORT for its local defaults (regression: it went to 3100 and 3200 whatever ports npm start used)', () => {
    expect(resolveSettings({}, { INGEST_PORT: '4100', GATEWAY_PORT: '4200' })).to.deep.include({ ingestUrl: 'http://localhost:4100', gatewayUrl: 'http://localhost:4200' });
    expect(resolveSettings({}, { INGEST_PORT: '4100', HERALD_INGEST_URL: 'http://ingest:1' })).to.deep.include({ ingestUrl: 'http://ingest:1', gatewayUrl: 'http://localhost:3200' });
    expect(() => resolveSettings({}, { GATEWAY_PORT: 'eighty' })).to.throw(UsageError, /GATEWAY_PORT: must be a port number/);
  });
});

describe('herald trace: reading a trace', () => {
  it('says why an event was dropped, by the verdict the tap uses (regression: "targeting dropped" with no reason)', () => {
    const skipped = 'not reached: the targeting gate dropped the event (no_targets)';
    const text = formatTrace({
      id: 'e1',
      priority: 'high',
      status: 'dropped',
      verdict: 'no_targets',
      acceptedAt: '2026-01-01T00:00:00.000Z',
      type: 'plan.changed',
      accountId: 'acct-1',
      routedAt: '2026-01-01T00:00:00.010Z',
      gates: [
        { gate: 'stale', verdict: 'passed' },
        { gate: 'duplicate', verdict: 'passed' },
        { gate: 'targeting', verdict: 'dropped', reason: 'no devices registered for this account' },
        { gate: 'history', verdict: 'skipped', reason: skipped },
        { gate: 'online', verdict: 'skipped', reason: skipped, devices: [] },
      ],
      pushes: [],
      failures: [],
      acks: [],
    });
    expect(text).to.contain('status    dropped: no_targets (no devices registered for this account)\n');
    expect(text).to.match(/targeting\s+dropped\s+no devices registered for this account/);
    expect(text).to.match(/history\s+skipped\s+not reached: the targeting gate dropped the event \(no_targets\)/);
  });
});

describe('table', () => {
  it('pads columns to their widest cell', () => {
    expect(table(['A', 'LONG'], [['wide-cell', 'x'], ['b', 'y']])).to.equal('A          LONG\nwide-cell  x\nb          y\n');
  });
});
