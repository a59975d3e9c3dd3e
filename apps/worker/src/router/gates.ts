import type { EventCatalog } from '@herald/catalog';
import type { AcceptedEvent, DeviceRecord, RoutingVerdict } from '@herald/contracts';

/** Gate outcomes (the contract's routing verdicts); each is counted in metrics by reason and priority. */
export type Verdict = RoutingVerdict;

/** Staleness: older than its type's `staleAfterMs`, counted from `createdAt`. Unknown types are stale. */
export function isStale(event: AcceptedEvent, catalog: EventCatalog, now: number): boolean {
  const type = catalog.get(event.type);
  return type === undefined || now - event.createdAt > type.staleAfterMs;
}

/**
 * Targeting: the account's devices this event is for. A device qualifies when its platform is
 * one the type goes to (and one the event names, if it names platforms), it is named (if the
 * event names devices), its profile is named (if the event names profiles: devices without a
 * profile are then left out), and it is not excluded.
 */
export function resolveTargets(event: AcceptedEvent, devices: readonly DeviceRecord[], catalog: EventCatalog): DeviceRecord[] {
  const typePlatforms = catalog.platformsOf(event.type) ?? [];
  const targets = event.targets ?? {};
  const deviceIds = targets.deviceIds === undefined ? undefined : new Set(targets.deviceIds);
  const profileIds = targets.profileIds === undefined ? undefined : new Set(targets.profileIds);
  const excluded = new Set(targets.excludeDeviceIds ?? []);
  return devices.filter(
    (device) =>
      typePlatforms.includes(device.platform) &&
      (targets.platforms === undefined || targets.platforms.includes(device.platform)) &&
      (deviceIds === undefined || deviceIds.has(device.deviceId)) &&
      (profileIds === undefined || (device.profileId !== undefined && profileIds.has(device.profileId))) &&
      !excluded.has(device.deviceId),
  );
}
