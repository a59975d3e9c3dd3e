/**
 * bench/probe: the high-priority observer of bench/pipeline, in a process of its own, so that
 * what it measures is Herald's latency and not the load generator's busy event loop (on real
 * deployments devices and the services that send events are other machines).
 *
 * Connects its devices, sends one high-priority event every 1/rate s for `durationMs`, each to
 * one of its own accounts, and prints one line `PROBE <json>`: per event its id, when it was
 * sent, ingest's answer (HTTP status, or 0 when none came) and when its device received it
 * (epoch ms, this machine's clock): a high-priority event must never be refused, lost or 5xx.
 *
 * Config: the HERALD_PROBE environment variable, JSON of ProbeConfig.
 */
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { z } from 'zod';
import { NotificationSchema } from '@herald/contracts';

const ProbeConfigSchema = z.object({
  ingestUrl: z.url(),
  gatewayUrl: z.url(),
  serviceKey: z.string(),
  devices: z.array(z.object({ accountId: z.string(), token: z.string() })).min(1),
  rate: z.number().positive(),
  durationMs: z.number().int().positive(),
  idPrefix: z.string(),
});

export interface ProbeSample {
  id: string;
  sentAt: number;
  /** Ingest's HTTP status (202 accepted); 0: no answer (network error). Absent: still in flight at the end. */
  status?: number;
  receivedAt?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const config = ProbeConfigSchema.parse(JSON.parse(process.env['HERALD_PROBE'] ?? '{}'));
  const samples = new Map<string, ProbeSample>();
  const sockets: Socket[] = [];
  for (const { token } of config.devices) {
    const socket = io(config.gatewayUrl, { auth: { token }, transports: ['websocket'] });
    socket.on('notification', (raw: unknown, ack?: () => void) => {
      const receivedAt = Date.now();
      ack?.();
      const notification = NotificationSchema.safeParse(raw);
      const sample = notification.success ? samples.get(notification.data.id) : undefined;
      if (sample !== undefined && sample.receivedAt === undefined) sample.receivedAt = receivedAt;
    });
    await new Promise((resolve) => socket.once('synced', resolve));
    sockets.push(socket);
  }

  const headers = { authorization: `Bearer ${config.serviceKey}`, 'content-type': 'application/json' };
  const interval = 1000 / config.rate;
  const start = Date.now();
  for (let n = 0; Date.now() - start < config.durationMs; n++) {
    const id = `${config.idPrefix}${n}`;
    const accountId = config.devices[n % config.devices.length]!.accountId;
    const sample: ProbeSample = { id, sentAt: Date.now() };
    samples.set(id, sample);
    void fetch(`${config.ingestUrl}/v1/events`, { method: 'POST', headers, body: JSON.stringify({ id, type: 'plan.changed', accountId }) }).then(
      async (response) => {
        sample.status = response.status;
        await response.arrayBuffer();
      },
      () => (sample.status = 0),
    );
    // Paced from the start, so a slow moment is not followed by a burst.
    await sleep(Math.max(0, start + (n + 1) * interval - Date.now()));
  }
  // Stragglers: wait up to 10 s for the last ones.
  const deadline = Date.now() + 10_000;
  while ([...samples.values()].some((s) => s.receivedAt === undefined) && Date.now() < deadline) await sleep(50);
  for (const socket of sockets) socket.disconnect();
  process.stdout.write(`PROBE ${JSON.stringify([...samples.values()])}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
