import { HeraldError } from '@herald/contracts';

/**
 * The origin allow-list, for sockets and pulls alike. Native clients (TV apps, mobile, servers)
 * send no `Origin` and are never refused; a browser page is refused unless its origin is listed.
 * With no list, every origin may connect (device tokens are bearer credentials, not cookies).
 */
export function checkOrigin(origin: string | undefined, allowed: readonly string[] | undefined): void {
  if (origin === undefined || allowed === undefined || allowed.includes(origin)) return;
  throw new HeraldError('forbidden', `Origin ${origin} is not allowed to use this gateway.`);
}
