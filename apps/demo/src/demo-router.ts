import { Router } from 'express';
import { jsonBody, parseInput } from '@herald/http';
import { DemoAssets } from './demo-assets.js';
import { IngestForwarder } from './ingest-forwarder.js';
import type { DemoOptions } from './options.js';
import { samplePayload } from './samples.js';
import { DemoDeviceRequestSchema, DemoEventRequestSchema, DemoQuerySchema } from './schemas.js';
import type { DemoDevice, DemoEventTypes } from './schemas.js';

/**
 * The demo's page and its small API, for the page only:
 *
 * - `GET /?account=&platform=web|tv`: the page (its script registers the devices and connects
 *   them to the gateway with `@herald/client`)
 * - `GET /demo.js`: the page's script, bundled from the sources on first request
 * - `GET /api/event-types`: ingest's catalog, with a sample payload per type
 * - `POST /api/devices` `{ accountId, platform, deviceId? }` → 201 `{ accountId, deviceId, platform, token }`, registered with ingest
 * - `POST /api/events` `{ accountId, type, payload? }` → ingest's 202 `{ id, status, priority }`
 *
 * The page needs no service key: the server adds its own on the way to ingest. Errors are the
 * contract's JSON; ingest unreachable or misconfigured is a 502 saying so.
 */
export function demoRouter(options: DemoOptions): Router {
  const router = Router();
  const assets = new DemoAssets(options.gatewayUrl);
  const ingest = new IngestForwarder({ ingestUrl: options.ingestUrl, serviceKey: options.serviceKey, timeoutMs: options.ingestTimeoutMs });

  router.get('/', async (req, res) => {
    // Checked here as well as in the page, so a bad link gets a clear 400 rather than a broken page.
    parseInput(DemoQuerySchema, req.query, 'The demo page takes ?account=<id>&platform=web|tv.');
    const html = await assets.html();
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(html);
  });

  router.get('/demo.js', async (_req, res) => {
    const js = await assets.js();
    res.setHeader('Cache-Control', 'no-cache');
    res.type('text/javascript; charset=utf-8').send(js);
  });

  router.get('/api/event-types', async (_req, res) => {
    const { eventTypes } = await ingest.eventTypes();
    const body: DemoEventTypes = {
      eventTypes: eventTypes.map(({ type, priority, platforms, description }) => ({
        type,
        priority,
        platforms,
        ...(description === undefined ? {} : { description }),
        sample: samplePayload(type),
      })),
    };
    res.setHeader('Cache-Control', 'no-store');
    res.json(body);
  });

  router.post('/api/devices', ...jsonBody('16kb'), async (req, res) => {
    const input = parseInput(DemoDeviceRequestSchema, req.body, 'The demo device is invalid.');
    const { deviceId, token } = await ingest.registerDevice(input);
    const body: DemoDevice = { accountId: input.accountId, deviceId, platform: input.platform, token };
    res.status(201).json(body);
  });

  router.post('/api/events', ...jsonBody('64kb'), async (req, res) => {
    const { accountId, type, payload } = parseInput(DemoEventRequestSchema, req.body, 'The demo event is invalid.');
    res.status(202).json(await ingest.send({ accountId, type, payload: payload ?? samplePayload(type) }));
  });

  return router;
}
