import { z } from 'zod';

/** Event ids are idempotency keys chosen by services: short, and safe in keys and URLs. */
export const EventIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must use only letters, digits and _ . : -');

/** Account, profile and device ids are opaque to Herald: any 1..128 characters. */
export const AccountIdSchema = z.string().min(1).max(128);
export const ProfileIdSchema = z.string().min(1).max(128);
export const DeviceIdSchema = z.string().min(1).max(128);
