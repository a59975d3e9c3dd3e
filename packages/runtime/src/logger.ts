import { pino } from 'pino';
import type { Logger, LevelWithSilent } from 'pino';

export type { Logger };

/** A JSON logger (pino) for one app. Lines about an event carry its id as `eventId`. */
export function createLogger(options: { app: string; level: LevelWithSilent }): Logger {
  return pino({ name: options.app, level: options.level, base: { app: options.app } });
}
