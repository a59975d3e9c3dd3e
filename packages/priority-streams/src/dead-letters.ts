import { z } from 'zod';
import { AcceptedEventSchema, PRIORITIES } from '@herald/contracts';
import type { AcceptedEvent, Priority } from '@herald/contracts';
import { RedisScript } from '@herald/redis';
import type { KeyBuilder, RedisClient } from '@herald/redis';

const redrive = RedisScript.fromFile(new URL('../lua/', import.meta.url), 'redrive-3');

export interface DeadLetter {
  priority: Priority;
  partition: number;
  /** Id in the dead-letter stream (what re-drive takes). */
  id: string;
  /** The stream entry that failed. */
  entry: string;
  reason: string;
  /** The events it held; undefined when the entry could not be decoded. */
  events: AcceptedEvent[] | undefined;
}

const EventsSchema = z.array(AcceptedEventSchema);

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * The dead letters of the priority streams: entries the router gave up on (delivered too often,
 * or undecodable), one stream per partition. Listing reads them; re-drive puts an entry's events
 * back on its partition stream (and backlog) for another round, and removes the dead letter.
 */
export class DeadLetters {
  constructor(private readonly options: { redis: RedisClient; keys: KeyBuilder; partitions: Record<Priority, number> }) {}

  async list(priority?: Priority, limitPerPartition = 100): Promise<DeadLetter[]> {
    const { redis, keys, partitions } = this.options;
    const result: DeadLetter[] = [];
    for (const p of priority === undefined ? PRIORITIES : [priority]) {
      for (let partition = 0; partition < partitions[p]; partition++) {
        const raw = await redis.xrange(keys.deadLetters(p, partition), '-', '+', 'COUNT', limitPerPartition);
        for (const [id, fields] of raw) {
          let events: AcceptedEvent[] | undefined;
          try {
            const parsed = EventsSchema.safeParse(JSON.parse(field(fields, 'e') ?? ''));
            events = parsed.success ? parsed.data : undefined;
          } catch {
            events = undefined;
          }
          result.push({ priority: p, partition, id, entry: field(fields, 'entry') ?? '', reason: field(fields, 'reason') ?? '', events });
        }
      }
    }
    return result;
  }

  /** Re-drives one dead letter; false when there is none with that id, or it held no events. */
  async redrive(priority: Priority, partition: number, id: string): Promise<boolean> {
    const { redis, keys } = this.options;
    const dead = keys.deadLetters(priority, partition);
    const [found] = await redis.xrange(dead, id, id);
    if (found === undefined) return false;
    const events = field(found[1], 'e');
    const count = Number(field(found[1], 'n') ?? 0);
    if (events === undefined || !(count > 0)) return false;
    const appended = await redrive.run(redis, [dead, keys.stream(priority, partition), keys.backlog(priority, partition)], [id, count, events]);
    return typeof appended === 'string';
  }
}
