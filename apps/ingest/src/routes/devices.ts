import { Router } from 'express';
import { z } from 'zod';
import { AccountIdSchema, DeviceIdSchema, RegisterDeviceSchema } from '@herald/contracts';
import type { DeviceRegistry } from '@herald/devices';
import { HeraldError } from '@herald/errors';
import { jsonBody, parseInput } from '@herald/http';

const AccountParams = z.object({ accountId: AccountIdSchema });
const DeviceParams = z.object({ accountId: AccountIdSchema, deviceId: DeviceIdSchema });

/** The device registry's service-facing side. */
export function devicesRouter({ devices }: { devices: DeviceRegistry }): Router {
  const router = Router();

  router.post('/v1/devices', ...jsonBody('16kb'), async (req, res) => {
    const input = parseInput(RegisterDeviceSchema, req.body, 'The device is invalid.');
    const { device, token } = await devices.register(input);
    res.status(201).json({ deviceId: device.deviceId, token });
  });

  router.get('/v1/accounts/:accountId/devices', async (req, res) => {
    const { accountId } = parseInput(AccountParams, req.params);
    res.json({ devices: await devices.view(accountId) });
  });

  router.delete('/v1/accounts/:accountId/devices/:deviceId', async (req, res) => {
    const { accountId, deviceId } = parseInput(DeviceParams, req.params);
    if (!(await devices.remove(accountId, deviceId))) {
      throw new HeraldError('not_found', `Account ${accountId} has no device ${deviceId}.`);
    }
    res.status(204).end();
  });

  return router;
}
