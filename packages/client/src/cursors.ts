import { CursorSchema } from '@herald/contracts';

/** Cursors are history stream ids (`<ms>-<seq>`): compared as two integers, not as strings. */
export function compareCursors(a: string, b: string): number {
  const [aMs, aSeq] = parts(a);
  const [bMs, bSeq] = parts(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

function parts(cursor: string): [bigint, bigint] {
  const [ms = '0', seq = '0'] = cursor.split('-');
  return [BigInt(ms), BigInt(seq)];
}

/** A cursor read back from storage, or undefined when it is missing or not a cursor. */
export function validCursor(value: unknown): string | undefined {
  const parsed = CursorSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
