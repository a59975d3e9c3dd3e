import { Router } from 'express';
import { z } from 'zod';
import { AccountIdSchema, HeraldError } from '@herald/contracts';
import type { EventTrace, TapRecord } from '@herald/contracts';
import { parseInput } from '@herald/http';
import type { Logger } from '@herald/runtime';
import type { RedisClient } from '@herald/redis';
import { eventTraceHandler } from '@herald/trace';
import type { TapOptions } from '@herald/trace';
import { EventStream } from './event-stream.js';

/** What the tap and the lookup need of `EventTraces` (from @herald/trace). */
export interface TraceReader {
  read(eventId: string): Promise<EventTrace | undefined>;
  tap(options: TapOptions): AsyncGenerator<TapRecord>;
}

export interface TapRoutesOptions {
  traces: TraceReader;
  /** A new Redis connection for one tap (it blocks on XREAD); the route closes it. */
  connectTap: () => RedisClient;
  /** The open streams, so the app can end them when it shuts down. */
  streams: Set<EventStream>;
  /** Taps open at once, each holding a Redis connection; one more is refused with 429. */
  maxTaps: number;
  /** XREAD BLOCK of a tap: how soon it notices it was stopped (default: the tap's own). */
  tapBlockMs?: number;
  logger: Logger;
}

const TapQuerySchema = z.object({ accountId: AccountIdSchema.optional() }).strict();

/**
 * `GET /api/tap?accountId=`: routing verdicts as the router writes them, as Server-Sent Events
 * (`ready` once, then one `tap` per routed event). Each stream has its own Redis connection,
 * closed as soon as the browser goes away.
 * `GET /api/events/:id`: one event's trace, 404 when none is kept.
 */
export function tapRoutes(options: TapRoutesOptions): Router {
  const router = Router();

  router.get('/api/tap', async (req, res) => {
    const { accountId } = parseInput(TapQuerySchema, req.query, 'The tap filter is invalid.');
    // Express answers HEAD with the GET route: say what it is, without opening a tap (and a Redis connection).
    if (req.method === 'HEAD') {
      res.status(200).type('text/event-stream').end();
      return;
    }
    if (options.streams.size >= options.maxTaps) {
      throw new HeraldError('rate_limited', `${options.maxTaps} live taps are open already; close one first.`, { retryAfterSeconds: 5 });
    }
    const stream = new EventStream(req, res);
    options.streams.add(stream);
    const redis = options.connectTap();
    // Disconnecting ends a blocked XREAD at once, rather than when its BLOCK time runs out.
    const disconnect = () => redis.disconnect();
    stream.signal.addEventListener('abort', disconnect, { once: true });
    stream.send('ready', { accountId: accountId ?? null });
    try {
      const tap = options.traces.tap({
        redis,
        signal: stream.signal,
        ...(accountId === undefined ? {} : { accountId }),
        ...(options.tapBlockMs === undefined ? {} : { blockMs: options.tapBlockMs }),
      });
      // A slow browser must not make this process buffer without bound: while its connection
      // is congested, records are skipped and it is told how many.
      let skipped = 0;
      for await (const record of tap) {
        if (stream.congested) {
          skipped++;
          continue;
        }
        if (skipped > 0) {
          stream.send('skipped', { count: skipped });
          skipped = 0;
        }
        stream.send('tap', record);
      }
    } catch (error) {
      if (!stream.signal.aborted) {
        options.logger.warn({ err: error }, 'tap: reading the routing records failed');
        stream.send('error', new HeraldError('unavailable', 'The tap stopped: the routing records could not be read.').toJSON());
      }
    } finally {
      options.streams.delete(stream);
      stream.close();
      disconnect();
    }
  });

  router.get('/api/events/:id', eventTraceHandler(options.traces));

  return router;
}
