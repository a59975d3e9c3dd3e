import { z } from 'zod';

/** A UTF-16 code unit of a surrogate pair standing alone (`u` mode reads a paired one as one code point). */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Whether a string is well-formed Unicode (no unpaired UTF-16 surrogate), as
 * `String.prototype.isWellFormed` says; written so it runs in every browser the SDK supports too.
 * An ill-formed string cannot be stored as UTF-8: Redis would get U+FFFD in place of each lone
 * surrogate, and `"victim-\ud800"` and `"victim-\udbff"` would name the same keys.
 */
export function isWellFormedUnicode(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

const WELL_FORMED = 'must be well-formed Unicode (no unpaired UTF-16 surrogate)';

/** 1..max characters of well-formed Unicode: the rule of every id that ends up in a Redis key or field. */
export const opaqueId = (max = 128) => z.string().min(1).max(max).refine(isWellFormedUnicode, WELL_FORMED);

/** Event ids are idempotency keys chosen by services: short, and safe in keys and URLs. */
export const EventIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must use only letters, digits and _ . : -');

/**
 * Account, profile and device ids are opaque to Herald: any 1..128 characters of well-formed
 * Unicode (an ill-formed one would share its keys with another id; see isWellFormedUnicode).
 */
export const AccountIdSchema = opaqueId();
export const ProfileIdSchema = opaqueId();
export const DeviceIdSchema = opaqueId();
