import { HeraldClientError } from '@herald/client';
import { UsageError } from './cli-error.js';

/** Rows as a plain-text table with a header, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** How an error reads on stderr: the server's code and message, one line per detail, and a hint where one helps. */
export function describeError(error: unknown, context: { service?: string; url?: string } = {}): string {
  if (error instanceof UsageError) return `herald: ${error.message}\nRun 'herald --help' for usage.\n`;
  if (error instanceof HeraldClientError) {
    const lines = [`herald: ${error.message} (${error.code}${error.status === undefined ? '' : `, HTTP ${error.status}`})`];
    for (const detail of error.details ?? []) lines.push(`  - ${detail.path === '' ? '(body)' : detail.path}: ${detail.message}`);
    if ((error.code === 'network_error' || error.code === 'timeout') && context.url !== undefined) {
      lines.push(`Is Herald's ${context.service ?? 'server'} running at ${context.url}? (set it with --${context.service ?? 'ingest'})`);
    }
    if (error.code === 'unauthorized' && context.service === 'ingest') lines.push('Check the service key (--key or HERALD_SERVICE_KEY).');
    if (error.code === 'overloaded') {
      const after = error.retryAfterMs === undefined ? 'later' : `in ${Math.ceil(error.retryAfterMs / 1000)} s or later`;
      lines.push(
        `Herald sheds low, then medium priority while the host or Redis cannot keep up (high priority never); nothing was written. Send it again ${after}.`,
      );
    }
    return lines.join('\n') + '\n';
  }
  return `herald: ${error instanceof Error ? error.message : String(error)}\n`;
}
