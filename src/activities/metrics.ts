// Counts the calls to GitHub, Kubernetes and Prometheus that fail, as tidegate_external_call_errors
// {system, operation} (src/core/metrics.ts) on the activity's metric meter, so they leave the worker
// with the SDK's own metrics. An adapter's activity that throws is one error (a cancellation is not:
// the workflow asked for it); Prometheus answers a failing backend with an Error measurement instead
// of a throw, so each Error measurement in an answer counts too (a watch's answer holds one per
// failed query). Outside an activity (tests and scripts call adapters directly) nothing is recorded.
import { CancelledFailure } from '@temporalio/common';
import { METRICS } from '../core/metrics.js';
import { activityContext } from './context.js';

export type ExternalSystem = 'github' | 'kubernetes' | 'prometheus';

function countError(system: ExternalSystem, operation: string): void {
  const meter = activityContext()?.metricMeter;
  meter?.createCounter('tidegate_external_call_errors', undefined, METRICS.tidegate_external_call_errors.description).add(1, { system, operation });
}

/** How many Error measurements an answer carries (a Prometheus answer: TimedObservation[]; a watch's holds one per failed query). */
function errorsIn(result: unknown): number {
  return Array.isArray(result) ? result.filter((r: unknown) => typeof r === 'object' && r !== null && (r as { observation?: { kind?: unknown } }).observation?.kind === 'error').length : 0;
}

/** The same activities, each failure of which is counted for `system`. */
export function countingErrors<T extends object>(system: ExternalSystem, activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function') continue;
    wrapped[name] = async (...args: unknown[]): Promise<unknown> => {
      let result: unknown;
      try {
        result = await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        if (!(err instanceof CancelledFailure)) countError(system, name);
        throw err;
      }
      if (system === 'prometheus') for (let i = errorsIn(result); i > 0; i--) countError(system, name);
      return result;
    };
  }
  return wrapped as T;
}
