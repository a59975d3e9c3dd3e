import { Router } from 'express';
import type { EventCatalog } from '@herald/catalog';
import { EventBatchSchema, HeraldError } from '@herald/contracts';
import type { AcceptedEvent, ErrorBody, Priority } from '@herald/contracts';
import type { ShedDecision } from '@herald/overload';
import { jsonBody, methodNotAllowed, parseInput } from '@herald/http';
import type { AppendResult, PriorityStreams } from '@herald/priority-streams';
import type { Logger } from '@herald/runtime';
import { ReplicationTimeoutError } from '@herald/redis';
import { eventTraceHandler } from '@herald/trace';
import type { EventTraces } from '@herald/trace';
import { validateEvent } from '../accept.js';
import type { IngestMetrics } from '../ingest-metrics.js';

/** A single event is ≤ 8 KiB of payload plus its fields; a batch is ≤ 1000 of them. */
const EVENT_BODY_LIMIT = '64kb';
const BATCH_BODY_LIMIT = '10mb';
/** Events of a batch validated in one go before the request yields to others. */
const VALIDATE_BEFORE_YIELD = 200;

/**
 * Appends, turning a write no replica confirmed in time (HERALD_REDIS_WAIT_REPLICAS) into a 503:
 * the events are not called accepted, since a failover could lose them; a retry with the same
 * ids is safe (what was written answers duplicate).
 */
async function appendConfirmed(streams: PriorityStreams, events: AcceptedEvent[]): Promise<AppendResult[]> {
  try {
    return await streams.append(events);
  } catch (error) {
    if (!(error instanceof ReplicationTimeoutError)) throw error;
    throw new HeraldError('unavailable', 'Redis did not confirm the events on a replica in time; retry with the same ids.', {
      retryAfterSeconds: 1,
      cause: error,
    });
  }
}

type BatchItemResult =
  | { index: number; id: string; status: 'accepted' | 'duplicate'; priority: Priority }
  | { index: number; error: ErrorBody['error'] & { retryAfterSeconds?: number } };

/** Decides, per event and before any work, whether Herald sheds it (`@herald/overload`'s OverloadMonitor). */
export interface ShedDoor {
  decide(priority: Priority): ShedDecision | undefined;
}

export interface EventsRouterDeps {
  catalog: EventCatalog;
  streams: PriorityStreams;
  /** Load shedding; absent: off. */
  shedding?: ShedDoor | undefined;
  traces: EventTraces;
  metrics: IngestMetrics;
  logger: Logger;
  now?: () => number;
}

export function eventsRouter({ catalog, streams, shedding, traces, metrics, logger, now = Date.now }: EventsRouterDeps): Router {
  const router = Router();

  /**
   * Whether to shed a submitted event, from its type alone: before it is validated or written,
   * so a shed event costs its share of the body's JSON parse and nothing more (an invalid one
   * may be told `overloaded` first and `invalid_request` when it comes back). High priority never.
   */
  const shed = (raw: unknown): (ShedDecision & { priority: Priority }) | undefined => {
    if (shedding === undefined || typeof raw !== 'object' || raw === null) return undefined;
    const type = (raw as { type?: unknown }).type;
    const priority = typeof type === 'string' ? catalog.priorityOf(type) : undefined;
    if (priority === undefined) return undefined;
    const decision = shedding.decide(priority);
    return decision === undefined ? undefined : { ...decision, priority };
  };
  const overloaded = (priority: Priority, retryAfterSeconds: number) =>
    `Herald is overloaded and sheds ${priority}-priority events for now; nothing was written. Retry after ${retryAfterSeconds} s.`;

  const count = (event: AcceptedEvent, result: AppendResult) => {
    if (result.status === 'accepted') metrics.accepted.inc({ priority: event.priority });
    else if (result.status === 'duplicate') metrics.duplicates.inc({ priority: event.priority });
    else metrics.rejected.inc({ reason: 'backlog_exceeded' });
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ eventId: event.id, accountId: event.accountId, priority: event.priority, status: result.status }, `event ${result.status}`);
    }
  };

  router.post('/v1/events', ...jsonBody(EVENT_BODY_LIMIT), async (req, res) => {
    const refused = shed(req.body);
    if (refused !== undefined) {
      throw new HeraldError('overloaded', overloaded(refused.priority, refused.retryAfterSeconds), { retryAfterSeconds: refused.retryAfterSeconds });
    }
    const validated = validateEvent(req.body, catalog, now());
    if (!validated.ok) throw new HeraldError('invalid_request', 'The event is invalid.', { details: validated.details });
    const { event } = validated;
    const [result] = await appendConfirmed(streams, [event]);
    if (result === undefined) throw new Error('no append result');
    count(event, result);
    if (result.status === 'backlog_exceeded') {
      throw new HeraldError('backlog_exceeded', `Too much backlog on priority ${event.priority}; retry later.`, {
        retryAfterSeconds: result.retryAfterSeconds,
      });
    }
    res.status(202).json({ id: event.id, status: result.status, priority: event.priority });
  });

  router.post('/v1/events/batch', ...jsonBody(BATCH_BODY_LIMIT), async (req, res) => {
    const { events: items } = parseInput(EventBatchSchema, req.body, 'The batch is invalid.');
    const acceptedAt = now();
    const results = new Array<BatchItemResult>(items.length);
    const valid: { index: number; event: AcceptedEvent }[] = [];
    let refused = 0;
    let retryAfterSeconds = 0;
    for (let index = 0; index < items.length; index++) {
      // Validating a full batch takes milliseconds: yield now and then, so a single
      // high-priority event that arrives meanwhile is not held up by a flood of batches.
      if (index > 0 && index % VALIDATE_BEFORE_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
      const shedItem = shed(items[index]);
      if (shedItem !== undefined) {
        refused++;
        retryAfterSeconds = Math.max(retryAfterSeconds, shedItem.retryAfterSeconds);
        metrics.rejected.inc({ reason: 'overloaded' });
        results[index] = {
          index,
          error: { code: 'overloaded', message: overloaded(shedItem.priority, shedItem.retryAfterSeconds), retryAfterSeconds: shedItem.retryAfterSeconds },
        };
        continue;
      }
      const validated = validateEvent(items[index], catalog, acceptedAt, ['events', index]);
      if (validated.ok) {
        valid.push({ index, event: validated.event });
      } else {
        metrics.rejected.inc({ reason: 'invalid_request' });
        results[index] = { index, error: { code: 'invalid_request', message: 'The event is invalid.', details: validated.details } };
      }
    }

    const appended =
      valid.length > 0
        ? await appendConfirmed(
            streams,
            valid.map((v) => v.event),
          )
        : [];
    valid.forEach(({ index, event }, i) => {
      const result = appended[i]!;
      count(event, result);
      if (result.status === 'backlog_exceeded') {
        refused++;
        retryAfterSeconds = Math.max(retryAfterSeconds, result.retryAfterSeconds);
        results[index] = {
          index,
          error: {
            code: 'backlog_exceeded',
            message: `Too much backlog on priority ${event.priority}; retry later.`,
            retryAfterSeconds: result.retryAfterSeconds,
          },
        };
      } else {
        results[index] = { index, id: event.id, status: result.status, priority: event.priority };
      }
    });
    if (refused > 0) res.setHeader('Retry-After', String(retryAfterSeconds));
    res.status(refused === items.length ? 429 : 202).json({ results });
  });

  router.get('/v1/events/:id', eventTraceHandler(traces));

  router.get('/v1/event-types', (_req, res) => {
    res.json({
      eventTypes: catalog.names().map((type) => ({ type, ...catalog.get(type), platforms: catalog.platformsOf(type) })),
    });
  });

  // Known paths, other methods: 405 with Allow, not a 404 saying the path does not exist.
  router.all('/v1/events', methodNotAllowed('POST'));
  router.all('/v1/events/batch', methodNotAllowed('POST'));
  router.all('/v1/events/:id', methodNotAllowed('GET'));
  router.all('/v1/event-types', methodNotAllowed('GET'));

  return router;
}
