import type { RequestHandler } from 'express';
import { z } from 'zod';
import { EventIdSchema, HeraldError } from '@herald/contracts';
import type { EventTrace } from '@herald/contracts';
import { parseInput } from '@herald/http';

const EventParamsSchema = z.object({ id: EventIdSchema });

/**
 * `GET …/:id`: one event's trace as JSON; 400 for an id that cannot be one, 404 when no trace is
 * kept. Ingest serves it at `/v1/events/:id`, the dashboard at `/admin/api/events/:id`.
 */
export function eventTraceHandler(traces: { read(eventId: string): Promise<EventTrace | undefined> }): RequestHandler {
  return async (req, res) => {
    const { id } = parseInput(EventParamsSchema, req.params, 'The event id is invalid.');
    const trace = await traces.read(id);
    if (trace === undefined) {
      throw new HeraldError('not_found', `No trace of event ${id}: unknown, older than the trace window, or tracing is off.`);
    }
    res.json(trace);
  };
}
