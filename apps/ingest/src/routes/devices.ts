import { Router } from 'express';
import { AccountPathSchema, DevicePathSchema, HeraldError, RegisterDeviceSchema } from '@herald/contracts';
import type { DeviceList, RegisterDeviceResult } from '@herald/contracts';
import type { DeviceRegistry } from '@herald/devices';
import { jsonBody, methodNotAllowed, parseInput } from '@herald/http';

/** The device registry's service-facing side. Answers are typed with the contract schemas the OpenAPI document is generated from. */
export function devicesRouter({ devices }: { devices: DeviceRegistry }): Router {
  const router = Router();

  router.post('/v1/devices', ...jsonBody('16kb'), async (req, res) => {
    const input = parseInput(RegisterDeviceSchema, req.body, 'The device is invalid.');
    const { device, token } = await devices.register(input);
    res.status(201).json({ deviceId: device.deviceId, token } satisfies RegisterDeviceResult);
  });

  router.get('/v1/accounts/:accountId/devices', async (req, res) => {
    const { accountId } = parseInput(AccountPathSchema, req.params);
    res.json({ devices: await devices.view(accountId) } satisfies DeviceList);
  });

  router.delete('/v1/accounts/:accountId/devices/:deviceId', async (req, res) => {
    const { accountId, deviceId } = parseInput(DevicePathSchema, req.params);
    if (!(await devices.remove(accountId, deviceId))) {
      throw new HeraldError('not_found', `Account ${accountId} has no device ${deviceId}.`);
    }
    res.status(204).end();
  });

  router.all('/v1/devices', methodNotAllowed('POST'));
  router.all('/v1/accounts/:accountId/devices', methodNotAllowed('GET'));
  router.all('/v1/accounts/:accountId/devices/:deviceId', methodNotAllowed('DELETE'));

  return router;
}
