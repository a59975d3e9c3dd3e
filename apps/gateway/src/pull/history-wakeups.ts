import { z } from 'zod';
import { AccountIdSchema, parseJson } from '@herald/contracts';
import type { Logger } from '@herald/runtime';
import { ssubscribeAll, sunsubscribeAll, watchSubscriptions } from '@herald/redis';
import type { RedisClient } from '@herald/redis';

/** One long-poll's wake-up: set when the account's history grew since it last looked. */
export interface Wakeup {
  /** Resolves when the account's history grows (at once if it did since the last call), on timeout or abort. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** The node is shutting down: answer with what there is, do not wait again. */
  readonly closed: boolean;
  dispose(): void;
}

class AccountWakeup implements Wakeup {
  private pending = false;
  private release: (() => void) | undefined;
  closed = false;

  constructor(private readonly onDispose: (wakeup: AccountWakeup) => void) {}

  wake(): void {
    this.pending = true;
    this.release?.();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.pending || this.closed || signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.release = undefined;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done);
      this.release = done;
    });
  }

  dispose(): void {
    this.release?.();
    this.onDispose(this);
  }
}

const AnnouncedAccountsSchema = z.array(AccountIdSchema).min(1);

/**
 * Wakes long-polls when their account's history grows. One subscriber connection per process,
 * subscribed to every partition's history shard channel (the worker announces the accounts of
 * each router batch in one message on its partition's channel), whatever the number of waiting
 * requests: they wait in memory, by account.
 */
export class HistoryWakeups {
  private readonly waiting = new Map<string, Set<AccountWakeup>>();
  private readonly channels: ReadonlySet<string>;
  private started = false;
  private unwatch: (() => void) | undefined;
  private readonly onMessage = (channel: string, message: string) => this.handle(channel, message);

  constructor(
    private readonly subscriber: RedisClient,
    /** The shard channels announcing grown histories (JSON arrays of account ids; `keys.historyAppended`), one per partition. */
    channels: readonly string[],
    private readonly logger: Logger,
  ) {
    this.channels = new Set(channels);
  }

  get count(): number {
    let count = 0;
    for (const set of this.waiting.values()) count += set.size;
    return count;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.subscriber.on('smessage', this.onMessage);
    await ssubscribeAll(this.subscriber, [...this.channels]);
    // After a lost subscription, announcements made meanwhile are lost: once subscribed again
    // (ours answered proves it), let every poll look again.
    this.unwatch = watchSubscriptions(this.subscriber, {
      lost: () => undefined,
      back: () =>
        void ssubscribeAll(this.subscriber, [...this.channels]).then(
          () => this.wakeAll(),
          () => this.wakeAll(),
        ),
    });
  }

  /** Starts listening for the account before the caller reads, so nothing appended in between is missed. */
  register(accountId: string): Wakeup {
    const wakeup = new AccountWakeup((disposed) => this.forget(accountId, disposed));
    if (!this.started) wakeup.close();
    let set = this.waiting.get(accountId);
    if (set === undefined) {
      set = new Set();
      this.waiting.set(accountId, set);
    }
    set.add(wakeup);
    return wakeup;
  }

  /** Releases every waiting poll (shutting down) and stops listening. */
  async stop(): Promise<void> {
    for (const set of this.waiting.values()) for (const wakeup of set) wakeup.close();
    if (!this.started) return;
    this.started = false;
    this.subscriber.off('smessage', this.onMessage);
    this.unwatch?.();
    await sunsubscribeAll(this.subscriber, [...this.channels]).catch((error: unknown) => this.logger.warn({ err: error }, 'unsubscribing failed'));
  }

  private handle(channel: string, message: string): void {
    if (!this.channels.has(channel)) return;
    const parsed = AnnouncedAccountsSchema.safeParse(parseJson(message));
    if (!parsed.success) {
      this.logger.warn({ channel, message: message.slice(0, 200) }, 'ignored a malformed history announcement');
      return;
    }
    for (const accountId of parsed.data) for (const wakeup of this.waiting.get(accountId) ?? []) wakeup.wake();
  }

  private wakeAll(): void {
    for (const set of this.waiting.values()) for (const wakeup of set) wakeup.wake();
  }

  private forget(accountId: string, wakeup: AccountWakeup): void {
    const set = this.waiting.get(accountId);
    if (set === undefined) return;
    set.delete(wakeup);
    if (set.size === 0) this.waiting.delete(accountId);
  }
}
