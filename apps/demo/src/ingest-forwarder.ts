import type { z } from 'zod';
import { AcceptResultSchema, ErrorBodySchema, HeraldError, parseJson, RegisterDeviceResultSchema } from '@herald/contracts';
import type { AcceptResult, RegisterDeviceResult } from '@herald/contracts';
import { IngestEventTypesSchema } from './schemas.js';
import type { DemoDeviceRequest, DemoEventRequest } from './schemas.js';

/**
 * Ingest could not be reached or did not answer sensibly: 502, because the fault is upstream of
 * the demo, not in the request. The contract's code table has no 502 yet, so the body says
 * `unavailable` (what a client should make of it: try again later) with the status overridden.
 */
export class UpstreamError extends HeraldError {
  override readonly status = 502;

  constructor(message: string, cause?: unknown) {
    super('unavailable', message, cause === undefined ? {} : { cause });
  }
}

export interface IngestForwarderOptions {
  /** Ingest's base URL, without a trailing slash. */
  ingestUrl: string;
  serviceKey: string;
  /** A call without an answer after this is a 502. */
  timeoutMs: number;
}

/**
 * The demo's way into Herald, with a service key like any backend service's: devices are
 * registered with ingest's `POST /v1/devices` and every sample event goes through its
 * `POST /v1/events` (DESIGN: ingest is the single event source; nothing else writes the priority
 * streams). Ingest's own 4xx answers (an invalid device, an unknown type, a backlog 429) are
 * passed on as they are; anything that is not the caller's fault becomes a 502 saying what went
 * wrong and what to do.
 */
export class IngestForwarder {
  constructor(private readonly options: IngestForwarderOptions) {}

  async registerDevice(device: DemoDeviceRequest): Promise<RegisterDeviceResult> {
    return this.request('POST', '/v1/devices', RegisterDeviceResultSchema, 201, device);
  }

  async send(event: Required<DemoEventRequest>): Promise<AcceptResult> {
    return this.request('POST', '/v1/events', AcceptResultSchema, 202, event);
  }

  async eventTypes(): Promise<z.output<typeof IngestEventTypesSchema>> {
    return this.request('GET', '/v1/event-types', IngestEventTypesSchema, 200);
  }

  private async request<S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S, expected: number, body?: unknown): Promise<z.output<S>> {
    const url = `${this.options.ingestUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.options.serviceKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new UpstreamError(
        `Ingest at ${this.options.ingestUrl} is not reachable (${describeFetchFailure(error, this.options.timeoutMs)}). Start it (\`npm start\` runs every app) or point HERALD_INGEST_URL at it.`,
        error,
      );
    }
    const text = await response.text().catch(() => '');
    const json = parseJson(text);
    if (response.status === expected) {
      const parsed = schema.safeParse(json);
      if (parsed.success) return parsed.data;
      throw new UpstreamError(`Ingest answered ${method} ${path} with a body the demo does not understand.`, parsed.error);
    }
    const error = ErrorBodySchema.safeParse(json);
    if (response.status === 401 || response.status === 403) {
      throw new UpstreamError(`Ingest refused the demo's service key (${response.status}): give the demo and ingest the same HERALD_SERVICE_KEYS.`);
    }
    if (response.status >= 400 && response.status < 500 && error.success) {
      // The request's own fault (an invalid device, a type not in the catalog, a payload too large, a backlog): pass it on.
      const retryAfter = Number(response.headers.get('retry-after'));
      const { code, message, details } = error.data.error;
      throw new HeraldError(code, message, {
        ...(details === undefined ? {} : { details }),
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      });
    }
    const said = error.success ? `: ${error.data.error.message}` : '';
    throw new UpstreamError(`Ingest answered ${method} ${path} with ${response.status}${said}`);
  }
}

/** "connection refused", "no answer within 5000 ms": the part of a fetch failure a person can act on. */
function describeFetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code === 'ECONNREFUSED' ? 'connection refused' : (code ?? cause.message);
  }
  return error instanceof Error ? error.message : String(error);
}
