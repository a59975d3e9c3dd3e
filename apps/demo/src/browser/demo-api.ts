import type { z } from 'zod';
import { AcceptResultSchema, ErrorBodySchema } from '@herald/contracts';
import type { AcceptResult, Platform } from '@herald/contracts';
import { DemoDeviceSchema, DemoEventTypesSchema } from '../schemas.js';
import type { DemoDevice, DemoEventTypes } from '../schemas.js';

/** A failed call to the demo API, with the server's message (and its details, one per line). */
export class DemoApiError extends Error {
  override readonly name = 'DemoApiError';

  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The demo server's endpoints (`/api/*`), answers checked against the shared schemas. */
export const demoApi = {
  registerDevice(accountId: string, platform: Platform, deviceId: string): Promise<DemoDevice> {
    return call('POST', '/api/devices', DemoDeviceSchema, { accountId, platform, deviceId });
  },

  eventTypes(): Promise<DemoEventTypes> {
    return call('GET', '/api/event-types', DemoEventTypesSchema);
  },

  sendEvent(accountId: string, type: string): Promise<AcceptResult> {
    return call('POST', '/api/events', AcceptResultSchema, { accountId, type });
  },
};

async function call<S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S, body?: unknown): Promise<z.output<S>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new DemoApiError(`${method} ${path}: the demo server did not answer (${error instanceof Error ? error.message : String(error)}).`, 0);
  }
  const json: unknown = await response.json().catch(() => undefined);
  if (response.ok) {
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    throw new DemoApiError(`${method} ${path}: unexpected answer from the demo server.`, response.status);
  }
  const failure = ErrorBodySchema.safeParse(json);
  if (!failure.success) throw new DemoApiError(`${method} ${path}: ${response.status} ${response.statusText}`, response.status);
  const { message, details = [] } = failure.data.error;
  throw new DemoApiError([message, ...details.map((detail) => `${detail.path || '(body)'}: ${detail.message}`)].join('\n'), response.status);
}
