import type { z } from 'zod';

/** Exit codes: part of the CLI's interface, scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** The server refused the request or could not be reached. */
  failed: 1,
  /** The command line itself is wrong (unknown option, missing argument, malformed value). */
  usage: 2,
} as const;

/** Bad input caught before anything was sent; exits with `EXIT.usage`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Arguments and options parsed with zod; a problem becomes a UsageError naming the option
 * (`--collapse-key`), or the argument as `labels` names it (`{ accountId: '<accountId>' }`).
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, labels: Record<string, string> = {}): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    if (field === '') return issue.message;
    const first = String(issue.path[0]);
    return `${labels[first] ?? `--${kebab(field)}`}: ${issue.message}`;
  });
  throw new UsageError(problems.join('\n'));
}

function kebab(camel: string): string {
  return camel.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
