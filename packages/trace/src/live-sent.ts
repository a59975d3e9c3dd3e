import type { LiveTrace } from '@herald/contracts';
import { RedisScript } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { encodeLiveSentSegment } from './trace-records.js';

const appendLiveSentScript = RedisScript.fromFile(new URL('../lua/', import.meta.url), 'append-live-sent-1');

/**
 * A gateway's record of the live pushes it sent, gathered over one event-loop turn and written as
 * one script call per trace hash: a segment per live message (`encodeLiveSentSegment`) appended
 * to the message's `liveSent` field. A live message of 100 pushes costs one short append, not
 * 100 hash fields. `write` gives one promise per trace hash, which a failed write rejects.
 */
export class LiveSentBatch {
  /** trace hash → field → [push, device] sent. */
  private readonly byKey = new Map<string, Map<string, [number, number][]>>();

  /** The push `push` of the message traced at `trace` was sent to the device `device` of its deviceIds. */
  add(trace: LiveTrace, push: number, device: number): void {
    let fields = this.byKey.get(trace.key);
    if (fields === undefined) this.byKey.set(trace.key, (fields = new Map()));
    let sent = fields.get(trace.field);
    if (sent === undefined) fields.set(trace.field, (sent = []));
    sent.push([push, device]);
  }

  /** Writes what was added, each item sent at `at`; `ttlMs`: the trace hash's lifetime if it has none. */
  write(redis: RedisClient, at: number, ttlMs: number): Promise<unknown>[] {
    const writes: Promise<unknown>[] = [];
    for (const [key, fields] of this.byKey) {
      const args: (string | number)[] = [ttlMs];
      for (const [field, sent] of fields) args.push(field, encodeLiveSentSegment(at, sent));
      writes.push(appendLiveSentScript.run(redis, [key], args));
    }
    return writes;
  }
}
