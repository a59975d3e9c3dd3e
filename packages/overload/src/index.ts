export { OverloadBoard, IngestReportSchema, OverloadReportSchema, WorkerReportSchema, readBoard } from './board.js';
export type { BoardReading, IngestReport, OverloadReport, WorkerReport } from './board.js';
export { IDLE_STATE, OverloadController, SHED_ORDER } from './controller.js';
export type {
  OverloadCondition,
  OverloadControllerOptions,
  OverloadReading,
  OverloadState,
  OverloadThresholds,
  PerSheddable,
  SheddablePriority,
} from './controller.js';
export { NEVER_YIELD, OverloadFollower } from './follower.js';
export type { OverloadFollowerOptions, YieldGate, YieldStage } from './follower.js';
export { IngestOverloadMetrics, SIGNAL_METRIC_LABELS, WorkerOverloadMetrics } from './metrics.js';
export { OverloadMonitor } from './monitor.js';
export type { OverloadMonitorOptions, OverloadSettings } from './monitor.js';
export { ShedDecider } from './shedder.js';
export type { ShedDecision } from './shedder.js';
export { EventLoopDelaySampler, HostCpuSampler, NO_SIGNALS, ProcessSignals, RedisRttProbe, SIGNAL_NAMES, StreamAgeReader, worstOf } from './signals.js';
export type { OverloadSignals, SignalName, SignalSource, StreamAges } from './signals.js';
