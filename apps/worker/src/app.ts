import express from 'express';
import type { Express } from 'express';
import { z } from 'zod';
import type { Worker } from 'bullmq';
import { HeraldError, PrioritySchema, StreamIdSchema } from '@herald/contracts';
import { errorHandler, healthRoutes, methodNotAllowed, notFound, parseInput, requestMetrics, serviceAuth } from '@herald/http';
import type { ServiceCredential } from '@herald/http';
import type { Logger, Registry } from '@herald/runtime';
import type { DeadLetters } from '@herald/priority-streams';
import type { RedisClient } from '@herald/redis';
import type { Router } from './router/router.js';

export interface WorkerDeps {
  redis: RedisClient;
  /** Absent when this process does not run the router role. */
  router: Router | undefined;
  /** Empty when this process does not run the delivery role. */
  deliveryWorkers: Worker[];
  deadLetters: DeadLetters;
  serviceKeys: readonly ServiceCredential[];
  logger: Logger;
  metrics: Registry;
  /** Closes what the wiring opened (queues, emitter connections), after the roles stopped. */
  close: () => Promise<void>;
}

export interface HeraldWorker {
  /** Health, readiness, metrics, and the dead letters (list, re-drive) for operators. */
  http: Express;
  start(): Promise<void>;
  /** Stops reading, finishes work in flight, closes the BullMQ workers. */
  stop(): Promise<void>;
}

const DeadLetterQuery = z.object({ priority: PrioritySchema.optional() }).strict();
const DeadLetterParams = z.object({ priority: PrioritySchema, partition: z.coerce.number().int().nonnegative(), id: StreamIdSchema });

/** Builds the worker: the router and delivery roles plus its small operator HTTP API. */
export function createWorker(deps: WorkerDeps): HeraldWorker {
  const http = express();
  http.disable('x-powered-by');
  http.use(requestMetrics(deps.metrics));
  http.use(healthRoutes({ redis: deps.redis, metrics: deps.metrics }));
  http.use('/v1', serviceAuth(deps.serviceKeys));
  http.get('/v1/dead-letters', async (req, res) => {
    const { priority } = parseInput(DeadLetterQuery, req.query);
    res.json({ deadLetters: await deps.deadLetters.list(priority) });
  });
  http.post('/v1/dead-letters/:priority/:partition/:id/redrive', async (req, res) => {
    const { priority, partition, id } = parseInput(DeadLetterParams, req.params);
    if (!(await deps.deadLetters.redrive(priority, partition, id))) {
      throw new HeraldError('not_found', `No dead letter ${id} in partition ${partition} of ${priority}.`);
    }
    res.status(202).json({ redriven: true });
  });
  http.all('/v1/dead-letters', methodNotAllowed('GET'));
  http.all('/v1/dead-letters/:priority/:partition/:id/redrive', methodNotAllowed('POST'));
  http.use(notFound);
  http.use(errorHandler(deps.logger));

  return {
    http,
    async start() {
      await deps.router?.start();
    },
    async stop() {
      await deps.router?.stop();
      await Promise.all(deps.deliveryWorkers.map((worker) => worker.close()));
      await deps.close();
    },
  };
}
