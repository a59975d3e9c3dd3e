import { CursorSchema } from '@herald/contracts';

export { compareCursors } from '@herald/contracts';

/** A cursor read back from storage, or undefined when it is missing or not a cursor. */
export function validCursor(value: unknown): string | undefined {
  const parsed = CursorSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
