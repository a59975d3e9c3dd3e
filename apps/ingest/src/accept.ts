import { randomUUID } from 'node:crypto';
import type { EventCatalog } from '@herald/catalog';
import type { AcceptedEvent, ErrorDetail, ParsedEventInput } from '@herald/contracts';
import { EventInputSchema, issuesToDetails } from '@herald/contracts';

export type Validated = { ok: true; event: AcceptedEvent } | { ok: false; details: ErrorDetail[] };

/**
 * Validates one submitted event against the contract and the catalog and resolves its
 * defaults (id, createdAt, payload, collapse key), ready for the priority streams.
 */
export function validateEvent(raw: unknown, catalog: EventCatalog, now: number, pathPrefix: readonly PropertyKey[] = []): Validated {
  const parsed = EventInputSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, details: issuesToDetails(parsed.error.issues, pathPrefix) };
  const input: ParsedEventInput = parsed.data;
  const priority = catalog.priorityOf(input.type);
  if (priority === undefined) {
    return {
      ok: false,
      details: [{ path: [...pathPrefix, 'type'].join('.'), message: `unknown event type "${input.type}"; see GET /v1/event-types` }],
    };
  }
  const payload = input.payload ?? {};
  const collapseKey = catalog.collapseKeyOf(input.type, input.collapseKey, payload);
  const event: AcceptedEvent = {
    id: input.id ?? randomUUID(),
    type: input.type,
    priority,
    accountId: input.accountId,
    createdAt: input.createdAt ?? now,
    acceptedAt: now,
    payload,
  };
  if (input.profileId !== undefined) event.profileId = input.profileId;
  if (input.targets !== undefined) event.targets = input.targets;
  if (collapseKey !== undefined) event.collapseKey = collapseKey;
  return { ok: true, event };
}
