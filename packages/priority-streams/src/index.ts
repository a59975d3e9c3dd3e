export { partitionOf } from './partition.js';
export { PriorityStreams } from './priority-streams.js';
export type { AppendResult, PriorityStreamSettings, PriorityStreamsOptions } from './priority-streams.js';
