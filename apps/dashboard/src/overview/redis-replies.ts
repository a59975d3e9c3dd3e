import { z } from 'zod';

/**
 * Schemas of the Redis replies the overview reads back. ioredis types most stream commands as
 * `unknown`, and these shapes changed across Redis versions (`lag` came in 7.0), so each is
 * checked rather than trusted.
 */

/** A flat `[field, value, field, value, …]` reply as an object. */
export function pairsToObject(flat: readonly unknown[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) object[String(flat[i])] = flat[i + 1];
  return object;
}

const integer = z.coerce.number().int().nonnegative();

/** `XINFO GROUPS <stream>`: one flat array per group. `lag` is nil when Redis cannot compute it. */
export const XinfoGroupsSchema = z.array(
  z
    .array(z.unknown())
    .transform(pairsToObject)
    .pipe(
      z.object({
        name: z.string(),
        pending: integer,
        'last-delivered-id': z.string(),
        lag: integer.nullable().optional(),
      }),
    ),
);

/** `XPENDING <stream> <group>` (summary form): count, smallest id, greatest id, consumers. */
export const XpendingSummarySchema = z.tuple([integer, z.string().nullable(), z.string().nullable(), z.unknown()]);

/** `TIME`: seconds and microseconds, as strings. */
export const RedisTimeSchema = z.tuple([integer, integer]).transform(([seconds, micros]) => seconds * 1000 + Math.floor(micros / 1000));

/** A dead letter's fields as the worker writes them (`entry`, `reason`, then the entry's `n` and `e`). */
export const DeadLetterFieldsSchema = z
  .array(z.string())
  .transform(pairsToObject)
  .pipe(
    z.object({
      entry: z.string().default(''),
      reason: z.string().default(''),
      n: integer.optional().catch(undefined),
    }),
  );

/** The milliseconds part of a stream entry id (`<ms>-<seq>`). */
export function entryIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
