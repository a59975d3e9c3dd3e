export { compareCursors, cursorTime } from './cursor.js';
export { History } from './history.js';
export type { AppendOutcome, HistoryOptions, HistoryRecord } from './history.js';
export { HistoryEntrySchema, toNotification } from './history-entry.js';
export type { HistoryEntry } from './history-entry.js';
