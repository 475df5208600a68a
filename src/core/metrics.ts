// The metrics tidegate itself exports, in one table: their names, kinds, units and labels. The
// workflow (src/workflows/release-metrics.ts) and the activities (src/activities/metrics.ts) record
// them through the Temporal SDK's metric meters, so they leave the worker through the same
// Prometheus endpoint as the SDK's own metrics (src/workers/runtime.ts sets their histogram
// buckets); the README's alert rules and DORA queries use these names. The SDK adds no prefix to
// them and, like its own counters, no `_total` suffix.

export interface MetricDefinition {
  readonly kind: 'counter' | 'histogram';
  readonly description: string;
  /** The labels tidegate sets (the SDK adds namespace, task_queue and workflow_type or activity_type). */
  readonly labels: readonly string[];
  /** Histograms: the bucket boundaries, in the metric's unit. */
  readonly buckets?: readonly number[];
}

/** Seconds, from a few seconds up to two days: stage, approval, release and rollback durations. */
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200, 21_600, 86_400, 172_800] as const;

export const METRICS = {
  tidegate_releases_started: {
    kind: 'counter',
    description: 'Releases started, one per service of the release',
    labels: ['service'],
  },
  tidegate_releases_ended: {
    kind: 'counter',
    description: 'Releases ended, one per service of the release, by outcome and cause (cause "none" for released)',
    labels: ['service', 'outcome', 'cause'],
  },
  tidegate_release_duration_seconds: {
    kind: 'histogram',
    description: 'From the start of a release to its end, by outcome',
    labels: ['outcome'],
    buckets: DURATION_BUCKETS,
  },
  tidegate_stage_duration_seconds: {
    kind: 'histogram',
    description: 'How long a stage of a service ran, by stage and result (done or failed)',
    labels: ['stage', 'result'],
    buckets: DURATION_BUCKETS,
  },
  tidegate_analysis_verdicts: {
    kind: 'counter',
    description: 'Analysis verdicts, by judge (threshold or compare), phase (Successful, Failed, Inconclusive) and stage',
    labels: ['judge', 'phase', 'stage'],
  },
  tidegate_approval_wait_seconds: {
    kind: 'histogram',
    description: 'How long an approval gate was open, by how it closed (approved, rejected, timed-out, aborted)',
    labels: ['decision'],
    buckets: DURATION_BUCKETS,
  },
  tidegate_compensation_attempts: {
    kind: 'counter',
    description: 'Rollback (compensation) attempts, by undo action and result: done, retry (failed, tried again) or failed (given up)',
    labels: ['action', 'result'],
  },
  tidegate_rollback_duration_seconds: {
    kind: 'histogram',
    description: 'From the stop of a release to the end of its rollback (time to restore), by outcome',
    labels: ['outcome'],
    buckets: DURATION_BUCKETS,
  },
  tidegate_external_call_errors: {
    kind: 'counter',
    description: 'Calls to GitHub, Kubernetes or Prometheus that failed, by system and operation (the activity)',
    labels: ['system', 'operation'],
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

/** The histogram bucket boundaries by metric name, as the SDK's Prometheus exporter takes them. */
export function histogramBuckets(): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, def] of Object.entries(METRICS) as [MetricName, MetricDefinition][]) if (def.buckets) out[name] = [...def.buckets];
  return out;
}
