export { EventTraces } from './event-traces.js';
export type { EventTracesOptions, TapOptions } from './event-traces.js';
export { TraceBuckets } from './trace-buckets.js';
export { TraceRecorder } from './trace-recorder.js';
export { eventTraceHandler } from './trace-route.js';
export { TAP_MAX_ENTRIES, TAP_RECORDS_PER_BATCH, traceField } from './trace-records.js';
export type { EventDelivery, PlatformDevices } from './trace-records.js';
