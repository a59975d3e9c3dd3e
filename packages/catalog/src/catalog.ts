import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PlatformSchema, PrioritySchema } from '@herald/contracts';
import type { Platform, Priority } from '@herald/contracts';

/** What Herald knows about one event type. */
export const EventTypeSchema = z
  .object({
    priority: PrioritySchema,
    /** An event older than this (counted from its `createdAt`) is dropped, not delivered. */
    staleAfterMs: z.number().int().positive(),
    /** The platforms this type goes to; absent means every platform. */
    platforms: z.array(PlatformSchema).min(1).optional(),
    /**
     * Collapse on pull: later notifications of this type supersede earlier ones with the same
     * collapse key. `by` names the payload field that forms the key when the event gives none.
     */
    collapse: z
      .object({ by: z.string().min(1) })
      .strict()
      .optional(),
    description: z.string().optional(),
  })
  .strict();
export type EventType = z.infer<typeof EventTypeSchema>;

const TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

export const CatalogSchema = z
  .record(z.string().regex(TYPE_NAME, 'event type names are dotted lower-case words'), EventTypeSchema)
  .refine((types) => Object.keys(types).length > 0, 'the catalog must name at least one event type');
export type CatalogDefinition = z.infer<typeof CatalogSchema>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The catalog Herald ships with. */
export const DEFAULT_CATALOG: CatalogDefinition = {
  'profile.maturity.changed': {
    priority: 'high',
    staleAfterMs: 24 * HOUR,
    description: "A profile's maturity level changed: every device must re-filter what it shows.",
  },
  'plan.changed': {
    priority: 'high',
    staleAfterMs: 24 * HOUR,
    description: 'The account changed plan (streams, resolution, downloads).',
  },
  'viewing.progress': {
    priority: 'medium',
    staleAfterMs: 30 * MINUTE,
    collapse: { by: 'titleId' },
    description: 'Playback position on a title; only the newest per title matters.',
  },
  'mylist.updated': {
    priority: 'medium',
    staleAfterMs: 6 * HOUR,
    description: "A title was added to or removed from a profile's list.",
  },
  'recommendations.updated': {
    priority: 'low',
    staleAfterMs: 10 * MINUTE,
    platforms: ['web', 'tv'],
    description: 'Fresh recommendations are ready; devices refresh their rows.',
  },
};

/** A validated catalog with fast look-ups. */
export class EventCatalog {
  private readonly types: ReadonlyMap<string, EventType>;

  constructor(definition: CatalogDefinition) {
    this.types = new Map(Object.entries(CatalogSchema.parse(definition)));
  }

  get(type: string): EventType | undefined {
    return this.types.get(type);
  }

  priorityOf(type: string): Priority | undefined {
    return this.types.get(type)?.priority;
  }

  /** The platforms an event of this type may reach. */
  platformsOf(type: string): readonly Platform[] | undefined {
    const entry = this.types.get(type);
    return entry === undefined ? undefined : (entry.platforms ?? PlatformSchema.options);
  }

  /** The collapse key of an event: its own, else the catalog's payload field, else none. */
  collapseKeyOf(type: string, collapseKey: string | undefined, payload: Record<string, unknown>): string | undefined {
    if (collapseKey !== undefined) return collapseKey;
    const by = this.types.get(type)?.collapse?.by;
    if (by === undefined) return undefined;
    const value = payload[by];
    return typeof value === 'string' || typeof value === 'number' ? `${type}:${value}` : undefined;
  }

  names(): string[] {
    return [...this.types.keys()];
  }

  toJSON(): CatalogDefinition {
    return Object.fromEntries(this.types);
  }
}

/**
 * Loads the catalog from a JSON file, or the default one when no path is given. Throws with
 * every problem listed when the file is unreadable or invalid, so start-up stops at once.
 */
export function loadCatalog(path?: string): EventCatalog {
  if (path === undefined) return new EventCatalog(DEFAULT_CATALOG);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the event catalog at ${path}: ${(error as Error).message}`);
  }
  const result = CatalogSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`The event catalog at ${path} is invalid:\n${problems.join('\n')}`);
  }
  return new EventCatalog(result.data);
}
