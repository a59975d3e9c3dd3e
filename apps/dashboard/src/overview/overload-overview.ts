import { PRIORITIES } from '@herald/contracts';
import { SHED_ORDER, readBoard } from '@herald/overload';
import type { BoardReading } from '@herald/overload';
import type { OverloadOverview } from './overview-schema.js';
import type { SampleDeltas } from './rate-sampler.js';

/** The board hash (HGETALL of `keys.overload`) as checked reports; an empty board when the key is absent. */
export function readOverloadBoard(raw: unknown, nowMs: number): BoardReading {
  const fields = raw !== null && typeof raw === 'object' ? Object.fromEntries(Object.entries(raw).filter(([, v]) => typeof v === 'string')) : {};
  return readBoard(fields as Record<string, string>, nowMs);
}

/** Counters for the rate sampler: events shed per priority, summed over live ingests (each counts since it started). */
export function shedCounters(board: BoardReading): Map<string, number> {
  return new Map(SHED_ORDER.map((priority) => [`shed:${priority}`, board.ingests.reduce((sum, report) => sum + report.shedTotal[priority], 0)]));
}

const worst = (values: readonly (number | null)[]): number | null => {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : Math.max(...known);
};

/** The overview's load-shedding section: the strictest live ingest's decision (they decide alike from shared signals). */
export function overloadOverview(board: BoardReading, deltas: SampleDeltas | undefined): OverloadOverview {
  const { ingests, workers } = board;
  const lead = ingests.reduce<(typeof ingests)[number] | undefined>(
    (best, report) => (best === undefined || report.level > best.level ? report : best),
    undefined,
  );
  const perSecond = (name: string) => {
    const delta = deltas?.delta(name);
    return deltas === undefined || delta === undefined ? null : delta / deltas.seconds;
  };
  return {
    active: ingests.length > 0,
    level: lead?.level ?? 0,
    pressure: lead?.pressure ?? null,
    condition: lead?.condition ?? null,
    signals: {
      cpu: worst(ingests.map((r) => r.signals.cpu)),
      eventLoopDelayMs: worst(ingests.map((r) => r.signals.eventLoopDelayMs)),
      redisRttMs: worst(ingests.map((r) => r.signals.redisRttMs)),
      highAgeMs: worst(ingests.map((r) => r.signals.highAgeMs)),
    },
    priorities: PRIORITIES.map((priority) => {
      // High priority is never shed nor yielded: always 0.
      if (priority === 'high') return { priority, shed: 0, yield: 0, queueAgeSeconds: null, shedPerSecond: ingests.length > 0 ? 0 : null };
      const ageMs = worst(ingests.map((r) => r.queueAgeMs[priority]));
      return {
        priority,
        shed: Math.max(0, ...ingests.map((r) => r.shed[priority])),
        yield: Math.max(0, ...ingests.map((r) => r.yield[priority])),
        queueAgeSeconds: ageMs === null ? null : ageMs / 1000,
        shedPerSecond: perSecond(`shed:${priority}`),
      };
    }),
    reporters: [...ingests, ...workers].map((report) => ({
      id: report.id,
      role: report.role,
      at: new Date(report.at).toISOString(),
      cpu: report.signals.cpu,
      eventLoopDelayMs: report.signals.eventLoopDelayMs,
    })),
  };
}
