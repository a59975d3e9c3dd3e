import { z } from 'zod';
import { HeraldPublisher } from '@herald/client';
import type { EventTrace } from '@herald/client';
import { EventIdSchema } from '@herald/contracts';
import { parseOptions } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { table } from '../output.js';
import type { Settings } from '../settings.js';

const TraceArgsSchema = z.object({ eventId: EventIdSchema, json: z.boolean().optional() });

/**
 * `dropped: no_targets (no devices registered for this account)`: the status, the router's
 * verdict by the name the tap and the metrics use, and the dropping gate's reason.
 */
function statusLine(trace: EventTrace): string {
  if (trace.status !== 'dropped') return trace.status;
  const reason = trace.gates.find((gate) => gate.verdict === 'dropped')?.reason;
  return `dropped: ${trace.verdict ?? 'unknown'}${reason === undefined ? '' : ` (${reason})`}`;
}

/** A trace as a person reads it: the event, each gate's verdict, then pushes, failures and acks. */
export function formatTrace(trace: EventTrace): string {
  const lines = [
    `event     ${trace.id}${trace.type === undefined ? '' : `  (${trace.type})`}`,
    `account   ${trace.accountId ?? '-'}${trace.profileId === undefined ? '' : `  profile ${trace.profileId}`}`,
    `priority  ${trace.priority}`,
    `status    ${statusLine(trace)}`,
    `accepted  ${trace.acceptedAt}`,
  ];
  if (trace.createdAt !== undefined) lines.push(`created   ${trace.createdAt}`);
  if (trace.routedAt !== undefined) lines.push(`routed    ${trace.routedAt}`);
  if (trace.cursor !== undefined) lines.push(`cursor    ${trace.cursor}`);
  if (trace.gates.length > 0) {
    lines.push(
      '',
      table(
        ['GATE', 'VERDICT', 'DEVICES', 'WHY'],
        trace.gates.map((gate) => [gate.gate, gate.verdict, gate.devices?.join(', ') ?? '', gate.reason ?? '']),
      ).trimEnd(),
    );
  }
  if (trace.pushes.length > 0) {
    lines.push(
      '',
      table(
        ['PUSHED TO', 'PLATFORM', 'AT'],
        trace.pushes.map((push) => [push.deviceId, push.platform, push.at]),
      ).trimEnd(),
    );
  }
  if (trace.failures.length > 0) {
    lines.push(
      '',
      table(
        ['FAILED', 'AT', 'ERROR'],
        trace.failures.map((failure) => [failure.platform, failure.at, failure.error]),
      ).trimEnd(),
    );
  }
  if (trace.acks.length > 0) {
    lines.push(
      '',
      table(
        ['ACKED BY', 'AT'],
        trace.acks.map((ack) => [ack.deviceId, ack.at]),
      ).trimEnd(),
    );
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
