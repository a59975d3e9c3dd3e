export { compareCursors } from '@herald/contracts';

/** The epoch milliseconds a cursor was made at. */
export function cursorTime(cursor: string): number {
  return Number(cursor.split('-')[0]);
}

/** The largest sequence number a Redis stream id can have. */
const MAX_SEQUENCE = 18_446_744_073_709_551_615n;

/**
 * The cursor just before `cursor`, with no possible cursor between them: history read after it
 * starts at `cursor` itself.
 */
export function cursorBefore(cursor: string): string {
  const [ms = '0', seq = '0'] = cursor.split('-');
  const sequence = BigInt(seq);
  if (sequence > 0n) return `${BigInt(ms)}-${sequence - 1n}`;
  const time = BigInt(ms);
  return time > 0n ? `${time - 1n}-${MAX_SEQUENCE}` : '0-0';
}
