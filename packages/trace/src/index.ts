export { EventTraces } from './event-traces.js';
export type { EventTracesOptions, TapOptions } from './event-traces.js';
export { LiveSentBatch } from './live-sent.js';
export { TraceBuckets } from './trace-buckets.js';
export { TraceRecorder } from './trace-recorder.js';
export { eventTraceHandler } from './trace-route.js';
export { TAP_MAX_ENTRIES, TAP_RECORDS_PER_BATCH, parseLiveSent, traceField } from './trace-records.js';
export type { EventDelivery, LivePushNumbers, PlatformDevices } from './trace-records.js';
