/**
 * A `Retry-After` header in milliseconds from now: delay-seconds or an HTTP date (RFC 9110
 * §10.2.3). Undefined when absent or unreadable; 0 for a date already past.
 */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
