export { LIVE_START, LiveStream, parseTailMessage } from './live-stream.js';
export type { LiveEntry, LivePosition, LiveStreamOptions } from './live-stream.js';
