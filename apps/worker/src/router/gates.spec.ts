import { expect } from 'chai';
import { DEFAULT_CATALOG, EventCatalog } from '@herald/catalog';
import type { AcceptedEvent, DeviceRecord } from '@herald/contracts';
import { isStale, resolveTargets } from './gates.js';

const catalog = new EventCatalog(DEFAULT_CATALOG);

function event(overrides: Partial<AcceptedEvent> = {}): AcceptedEvent {
  return { id: 'e', type: 'plan.changed', priority: 'high', accountId: 'a', createdAt: 1_000, acceptedAt: 1_000, payload: {}, ...overrides };
}

function device(deviceId: string, platform: DeviceRecord['platform'], profileId?: string): DeviceRecord {
  return { deviceId, accountId: 'a', platform, credentialId: 'c', registeredAt: 0, lastSeenAt: 0, ...(profileId === undefined ? {} : { profileId }) };
}

const devices = [device('tv1', 'tv', 'kids'), device('web1', 'web', 'adult'), device('ios1', 'ios', 'adult'), device('and1', 'android')];
const ids = (list: DeviceRecord[]) => list.map((d) => d.deviceId);

describe('router gates', () => {
  it('drops an event older than its staleAfterMs', () => {
    const staleAfter = DEFAULT_CATALOG['recommendations.updated']!.staleAfterMs;
    const e = event({ type: 'recommendations.updated', createdAt: 0 });
    expect(isStale(e, catalog, staleAfter)).to.equal(false);
    expect(isStale(e, catalog, staleAfter + 1)).to.equal(true);
    expect(isStale(event({ type: 'gone.from.catalog' }), catalog, 1_000)).to.equal(true);
  });

  it('targets every device of the account when the event names nothing', () => {
    expect(ids(resolveTargets(event(), devices, catalog))).to.deep.equal(['tv1', 'web1', 'ios1', 'and1']);
  });

  it("keeps to the type's platforms", () => {
    expect(ids(resolveTargets(event({ type: 'recommendations.updated' }), devices, catalog))).to.deep.equal(['tv1', 'web1']);
  });

  it('targets the named platforms, devices and profiles, minus the excluded devices', () => {
    expect(ids(resolveTargets(event({ targets: { platforms: ['ios', 'android'] } }), devices, catalog))).to.deep.equal(['ios1', 'and1']);
    expect(ids(resolveTargets(event({ targets: { deviceIds: ['web1', 'nope'] } }), devices, catalog))).to.deep.equal(['web1']);
    expect(ids(resolveTargets(event({ targets: { profileIds: ['adult'] } }), devices, catalog))).to.deep.equal(['web1', 'ios1']);
    expect(ids(resolveTargets(event({ targets: { excludeDeviceIds: ['tv1', 'and1'] } }), devices, catalog))).to.deep.equal(['web1', 'ios1']);
    expect(ids(resolveTargets(event({ targets: { platforms: ['tv'], profileIds: ['adult'] } }), devices, catalog))).to.deep.equal([]);
  });

  it('targets nothing for an account without devices', () => {
    expect(resolveTargets(event(), [], catalog)).to.deep.equal([]);
  });
});
