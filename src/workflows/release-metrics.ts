// What the release workflow tells the worker's metrics (src/core/metrics.ts names them): one small
// function per fact, called where the fact happens. They go through the SDK's workflow metricMeter,
// which adds no command to the history and records nothing while the workflow replays (the SDK checks
// workflowInfo().unsafe.isReplaying), so a release counted once is not counted again when another
// worker picks it up. Durations are workflow time (deterministic), in seconds.
//
// One exception: the end of a release is recorded in the workflow task that completes the workflow,
// and the server refuses that completion when an event arrives meanwhile (UnhandledCommand: the lock's
// child workflow completing as the release ends does, nearly every time); the task then runs again,
// not as a replay, and a metricMeter count would be counted twice. So the end goes through the
// `tidegateMetrics` sink, which the worker counts once per run (src/workers/runtime.ts).
import { metricMeter, proxySinks, workflowInfo, type Sinks } from '@temporalio/workflow';
import { METRICS, type MetricName } from '../core/metrics.js';
import type { Cause, Outcome } from '../core/status.js';

type Labels = Record<string, string>;

function count(name: MetricName, labels: Labels): void {
  metricMeter.createCounter(name, undefined, METRICS[name].description).add(1, labels);
}

function seconds(name: MetricName, ms: number, labels: Labels): void {
  metricMeter.createHistogram(name, 'float', 's', METRICS[name].description).record(Math.max(0, ms) / 1000, labels);
}

export function releaseStarted(services: readonly string[]): void {
  for (const service of services) count('tidegate_releases_started', { service });
}

/** The sink a worker of release workflows injects (releaseMetricsSinks in src/workers/runtime.ts). */
export interface ReleaseMetricsSinks extends Sinks {
  tidegateMetrics: {
    releaseEnded(services: string[], outcome: Outcome, cause: Cause | 'none', seconds: number): void;
  };
}

const sinks = proxySinks<ReleaseMetricsSinks>();

export function releaseEnded(services: readonly string[], outcome: Outcome, cause: Cause | undefined, ms: number): void {
  if (workflowInfo().unsafe.isReplaying) return;
  sinks.tidegateMetrics.releaseEnded([...services], outcome, cause ?? 'none', Math.max(0, ms) / 1000);
}

export function stageEnded(stage: string, result: 'done' | 'failed', ms: number): void {
  seconds('tidegate_stage_duration_seconds', ms, { stage, result });
}

export function analysisVerdict(judge: 'threshold' | 'compare', phase: string, stage: string): void {
  count('tidegate_analysis_verdicts', { judge, phase, stage });
}

export function approvalClosed(decision: 'approved' | 'rejected' | 'timed-out' | 'aborted', ms: number): void {
  seconds('tidegate_approval_wait_seconds', ms, { decision });
}

export function compensationAttempt(action: string, result: 'done' | 'retry' | 'failed'): void {
  count('tidegate_compensation_attempts', { action, result });
}

export function rollbackEnded(outcome: Outcome, ms: number): void {
  seconds('tidegate_rollback_duration_seconds', ms, { outcome });
}
