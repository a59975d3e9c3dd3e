import { z } from 'zod';
import { AcceptedEventSchema } from '@herald/contracts';
import type { AcceptedEvent } from '@herald/contracts';

/** A priority stream entry as XREADGROUP/XCLAIM return it. */
export type RawEntry = [id: string, fields: string[]];

export interface StreamEntry {
  id: string;
  events: AcceptedEvent[];
}

const EventsSchema = z.array(AcceptedEventSchema).min(1);

/** Decodes an entry written by ingest (`n`, `e`); undefined when it is not one (poison). */
export function decodeEntry([id, fields]: RawEntry): StreamEntry | undefined {
  const index = fields.indexOf('e');
  if (index < 0 || index % 2 !== 0) return undefined;
  try {
    const parsed = EventsSchema.safeParse(JSON.parse(fields[index + 1] ?? ''));
    return parsed.success ? { id, events: parsed.data } : undefined;
  } catch {
    return undefined;
  }
}
