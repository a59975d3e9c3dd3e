/** Compares two stream ids (`<ms>-<seq>`) numerically: negative when a < b. */
export function compareCursors(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-');
  const [bMs = '0', bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** The epoch milliseconds a cursor was made at. */
export function cursorTime(cursor: string): number {
  return Number(cursor.split('-')[0]);
}
