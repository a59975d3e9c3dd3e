import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router } from 'express';
import type { RequestHandler } from 'express';
import { HeraldError, toHeraldError } from '@herald/contracts';
import type { DeliveryQueue } from './delivery-queues.js';

export interface QueuesBoardOptions {
  queues: readonly DeliveryQueue[];
  /** Where the board is mounted (bull-board builds its links from it). */
  basePath: string;
  /** Refuse every change (retry, clean, promote, pause, add, …): the board only shows. */
  readOnly: boolean;
}

const READS = new Set(['GET', 'HEAD']);

/**
 * bull-board's read-only mode only hides the buttons; its API still takes the PUTs. This guard
 * refuses every request that is not a read, so read-only holds for scripts too.
 */
export function refuseChanges(readOnly: boolean): RequestHandler {
  return (req, _res, next) => {
    if (!readOnly || READS.has(req.method)) {
      next();
      return;
    }
    next(
      new HeraldError(
        'forbidden',
        'The queue board is read-only: retrying, cleaning and promoting jobs is off. Set HERALD_DASHBOARD_READ_ONLY=false to allow it.',
      ),
    );
  };
}

type BoardErrorHandler = Parameters<ExpressAdapter['setErrorHandler']>[0];
type BoardStatus = NonNullable<ReturnType<BoardErrorHandler>['status']>;
/** The client-fault statuses bull-board's API may answer with (its type allows no others). */
const BOARD_STATUSES: readonly BoardStatus[] = [400, 403, 404, 405, 409];

/** `<link>`s to fonts.googleapis.com (bull-board's page loads IBM Plex from Google Fonts). */
const WEB_FONTS = /<link\b[^>]*\bhref="https:\/\/fonts\.(?:googleapis|gstatic)\.com[^"]*"[^>]*>\s*/g;

/**
 * bull-board's adapter, with two changes:
 * - its page is served without the web fonts it loads from the internet: a dashboard opened
 *   offline (or behind a strict proxy) showed only bull-board's spinner while the stylesheet
 *   request hung. The page falls back on the system fonts its CSS names next to them;
 * - its API's errors go through Herald's mapper first, so a client fault is the 4xx it is
 *   (`?activeQueue=%ZZ` threw a URIError that bull-board answered with 500).
 */
class HeraldBoardAdapter extends ExpressAdapter {
  override setErrorHandler(handler: BoardErrorHandler): this {
    return super.setErrorHandler((error) => {
      const mapped = toHeraldError(error);
      if (mapped.status >= 500) return handler(error);
      const status = BOARD_STATUSES.find((candidate) => candidate === mapped.status) ?? 400;
      return { status, body: mapped.toJSON() };
    });
  }

  override setEntryRoute(route: Parameters<ExpressAdapter['setEntryRoute']>[0]): ExpressAdapter {
    const handler: RequestHandler = (_req, res, next) => {
      const { name, params } = route.handler({ basePath: this.basePath, uiConfig: this.uiConfig });
      res.render(name, params, (error: Error | null, html: string) => {
        if (error) next(error);
        else res.type('html').send(html.replace(WEB_FONTS, ''));
      });
    };
    this.app[route.method](route.route, handler);
    return this;
  }
}

/** The BullMQ board (bull-board) over every delivery queue, behind the read-only guard. */
export function queuesBoard({ queues, basePath, readOnly }: QueuesBoardOptions): Router {
  const serverAdapter = new HeraldBoardAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map(
      ({ queue, platform, priority }) =>
        new BullMQAdapter(queue, { readOnlyMode: readOnly, allowRetries: !readOnly, description: `${platform} deliveries, ${priority} priority` }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Herald queues' } },
  });
  const router = Router();
  router.use(refuseChanges(readOnly));
  router.use(serverAdapter.getRouter() as RequestHandler);
  return router;
}
