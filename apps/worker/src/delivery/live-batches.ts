import { RedisScript } from '@herald/redis';
import type { RedisClient } from '@herald/redis';
import { JOB_RETENTION } from './jobs.js';

const lua = new URL('../../lua/', import.meta.url);
const stageScript = RedisScript.fromFile(lua, 'stage-live-batch-1');
const publishScript = RedisScript.fromFile(lua, 'publish-live-batch-1');

/** A staged list waits for its job as long as a failed job is kept (to be retried from the board). */
const STAGED_TTL_MS = JOB_RETENTION.failed.age * 1000;
/** The "sent" mark lasts as long as a completed job is kept (a job re-run within it publishes nothing twice). */
const SENT_MARK_TTL_MS = JOB_RETENTION.completed.age * 1000;

/**
 * The live messages of `web`/`tv` delivery jobs, staged in Redis by the router and published
 * from there by the delivery (see `keys.liveBatch`).
 */
export const liveBatches = {
  /**
   * Stages a job's live messages under `key`, unless they (or the mark of their publication)
   * are there already: a batch routed again keeps its first routing's messages. Send it on the
   * connection the job is then added on, before the add, so Redis has it before the job exists.
   */
  async stage(client: RedisClient, key: string, messages: readonly string[]): Promise<boolean> {
    return (await stageScript.run(client, [key], [STAGED_TTL_MS, ...messages])) === 1;
  },

  /**
   * Publishes a job's staged messages on `channel`, from inside Redis. Returns how many went out
   * now (0: they went out before), or undefined when there is nothing under `key`.
   */
  async publish(client: RedisClient, key: string, channel: string): Promise<number | undefined> {
    const published = Number(await publishScript.run(client, [key], [channel, SENT_MARK_TTL_MS]));
    return published < 0 ? undefined : published;
  },
};
