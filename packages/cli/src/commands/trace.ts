import { z } from 'zod';
import { HeraldPublisher } from '@herald/client';
import type { EventTrace } from '@herald/client';
import { EventIdSchema } from '@herald/contracts';
import { parseOptions } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { table } from '../output.js';
import type { Settings } from '../settings.js';

const TraceArgsSchema = z.object({ eventId: EventIdSchema, json: z.boolean().optional() });

/** A trace as a person reads it: the event, each gate's verdict, then pushes, failures and acks. */
export function formatTrace(trace: EventTrace): string {
  const lines = [
    `event     ${trace.id}${trace.type === undefined ? '' : `  (${trace.type})`}`,
    `account   ${trace.accountId ?? '-'}${trace.profileId === undefined ? '' : `  profile ${trace.profileId}`}`,
    `priority  ${trace.priority}`,
    `status    ${trace.status}`,
    `accepted  ${trace.acceptedAt}`,
  ];
  if (trace.createdAt !== undefined) lines.push(`created   ${trace.createdAt}`);
  if (trace.routedAt !== undefined) lines.push(`routed    ${trace.routedAt}`);
  if (trace.cursor !== undefined) lines.push(`cursor    ${trace.cursor}`);
  if (trace.gates.length > 0) {
    lines.push('', table(['GATE', 'VERDICT', 'DEVICES'], trace.gates.map((gate) => [gate.gate, gate.verdict, gate.devices?.join(', ') ?? ''])).trimEnd());
  }
  if (trace.pushes.length > 0) {
    lines.push('', table(['PUSHED TO', 'PLATFORM', 'AT'], trace.pushes.map((push) => [push.deviceId, push.platform, push.at])).trimEnd());
  }
  if (trace.failures.length > 0) {
    lines.push('', table(['FAILED', 'AT', 'ERROR'], trace.failures.map((failure) => [failure.platform, failure.at, failure.error])).trimEnd());
  }
  if (trace.acks.length > 0) {
    lines.push('', table(['ACKED BY', 'AT'], trace.acks.map((ack) => [ack.deviceId, ack.at])).trimEnd());
  }
  return lines.join('\n') + '\n';
}

/** `herald trace <eventId> [--json]`: where an event went. */
export async function traceCommand(eventId: string, rawOptions: { json?: boolean }, settings: Settings, io: CliIo): Promise<void> {
  const { json } = parseOptions(TraceArgsSchema, { eventId, ...rawOptions }, { eventId: '<eventId>' });
  const publisher = new HeraldPublisher({ url: settings.ingestUrl, serviceKey: settings.serviceKey, maxRetries: 2 });
  const trace = await publisher.trace(eventId);
  io.stdout.write(json === true ? `${JSON.stringify(trace, null, 2)}\n` : formatTrace(trace));
}
