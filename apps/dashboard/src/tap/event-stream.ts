import type { Request, Response } from 'express';

/** Comment lines sent this often keep proxies and browsers from closing an idle stream. */
const KEEP_ALIVE_MS = 15_000;

/**
 * One Server-Sent Events response. `signal` aborts when the browser goes away (or the
 * dashboard shuts down), which is what stops whatever feeds the stream.
 */
export class EventStream {
  private readonly controller = new AbortController();
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    req: Request,
    private readonly res: Response,
  ) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    // Tells nginx-style proxies not to buffer the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    // Browsers reconnect after this long when the stream breaks.
    res.write('retry: 2000\n\n');
    this.keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    this.keepAlive.unref();
    const stop = () => this.close();
    req.once('close', stop);
    res.once('close', stop);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The browser reads slower than events come: what was written waits in memory. */
  get congested(): boolean {
    return this.res.writableNeedDrain;
  }

  /** Sends one event; `data` is sent as JSON on one line. */
  send(event: string, data: unknown): void {
    if (this.signal.aborted) return;
    this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the stream (idempotent). */
  close(): void {
    if (this.signal.aborted) return;
    clearInterval(this.keepAlive);
    this.controller.abort();
    if (!this.res.writableEnded) this.res.end();
  }
}
