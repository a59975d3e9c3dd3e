import { Router } from 'express';
import type { RequestHandler } from 'express';
import type { DeviceIdentity, NotificationsPage } from '@herald/contracts';
import type { DeviceRegistry } from '@herald/devices';
import { HeraldError } from '@herald/contracts';
import { bearerToken, methodNotAllowed, parseInput } from '@herald/http';
import type { Logger } from '@herald/runtime';
import type { Puller } from './puller.js';
import { PullQuerySchema } from './selection.js';

export interface NotificationsRouteDeps {
  devices: DeviceRegistry;
  puller: Puller;
  logger: Logger;
}

/** `Authorization: Bearer <device token>`: the device, or 401 saying why not. */
async function authenticateDevice(devices: DeviceRegistry, header: string | undefined): Promise<DeviceIdentity> {
  const token = bearerToken(header);
  if (token === undefined) throw new HeraldError('unauthorized', 'Send the device token as `Authorization: Bearer <token>`.');
  return devices.authenticate(token);
}

/** An AbortSignal that fires when the client goes away before the answer is sent. */
function clientGone(res: Parameters<RequestHandler>[1]): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** `GET /v1/notifications?after=&limit=&waitMs=`. */
export function notificationsRouter(deps: NotificationsRouteDeps): Router {
  const router = Router();
  router.get('/v1/notifications', async (req, res) => {
    const device = await authenticateDevice(deps.devices, req.headers.authorization);
    const query = parseInput(PullQuerySchema, req.query, 'The query is invalid.');
    deps.devices
      .touch(device.accountId, device.deviceId)
      .catch((error: unknown) => deps.logger.warn({ err: error, accountId: device.accountId }, 'refreshing lastSeenAt failed'));
    const result = await deps.puller.pull(device, query, clientGone(res));
    if (res.writableEnded || res.destroyed) return;
    res.setHeader('Cache-Control', 'no-store');
    res.json(result satisfies NotificationsPage);
  });
  router.all('/v1/notifications', methodNotAllowed('GET'));
  return router;
}
