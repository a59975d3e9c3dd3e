export { compareCursors } from '@herald/contracts';

/** The epoch milliseconds a cursor was made at. */
export function cursorTime(cursor: string): number {
  return Number(cursor.split('-')[0]);
}
