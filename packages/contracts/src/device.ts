import { z } from 'zod';
import { AccountIdSchema, DeviceIdSchema, ProfileIdSchema } from './identifiers.js';
import { PlatformSchema } from './platform.js';

/** `POST /v1/devices`. */
export const RegisterDeviceSchema = z
  .object({
    accountId: AccountIdSchema,
    platform: PlatformSchema,
    deviceId: DeviceIdSchema.optional(),
    profileId: ProfileIdSchema.optional(),
    pushToken: z.string().min(1).max(4096).optional(),
  })
  .strict();
export type RegisterDevice = z.infer<typeof RegisterDeviceSchema>;

/** A registered device as the registry stores it. Times are epoch milliseconds. */
export const DeviceRecordSchema = z.object({
  deviceId: DeviceIdSchema,
  accountId: AccountIdSchema,
  platform: PlatformSchema,
  profileId: ProfileIdSchema.optional(),
  pushToken: z.string().optional(),
  /** Tokens carry it; deleting and re-creating a device gives a new one, so old tokens die. */
  credentialId: z.string(),
  registeredAt: z.number(),
  lastSeenAt: z.number(),
});
export type DeviceRecord = z.infer<typeof DeviceRecordSchema>;

/** The claims of a device token (a JWT signed with `HERALD_DEVICE_SECRET`). */
export interface DeviceIdentity {
  accountId: string;
  deviceId: string;
  platform: z.infer<typeof PlatformSchema>;
  profileId?: string | undefined;
}

/**
 * One gateway node's entry in the gateway-nodes hash (field: the node id), rewritten at each
 * presence heartbeat; the dashboard sums them for "devices online". `at` is the node's clock
 * (epoch ms): readers ignore entries older than the presence ttl, since a node that stopped
 * heartbeating holds no one any more.
 */
export const GatewayNodeEntrySchema = z.object({
  connections: z.number().int().nonnegative(),
  devices: z.number().int().nonnegative(),
  at: z.number().int().nonnegative(),
});
export type GatewayNodeEntry = z.infer<typeof GatewayNodeEntrySchema>;
