export { partitionOf } from './partition.js';
export { PriorityStreams } from './priority-streams.js';
export type { AppendResult, PriorityStreamSettings, PriorityStreamsOptions } from './priority-streams.js';
export { DeadLetters } from './dead-letters.js';
export type { DeadLetter } from './dead-letters.js';
