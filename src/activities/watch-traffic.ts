// Why the monitor's watch puts traffic back itself: a fault after the switch must cost users one
// interval, not the release's next workflow task too. That task goes to the worker that ran the
// last one; when that worker is gone, the server holds it there for up to 10 s (the sticky queue)
// before another worker gets it. The watch that saw the Failed verdict is already running — or, when
// its worker was the one lost, is retried on another worker within its heartbeat timeout and comes to
// the same verdict from its heartbeat — so it runs the saga's first undo before it returns: the
// release's traffic undo, guarded by `ownTraffic` (traffic someone else moved is left alone; an undo
// of this release's cut short half-way is finished). The rollback then runs the same undo again,
// which finds nothing left to do.
import type { Context } from '@temporalio/activity';
import { expectedFromSnapshot, ownTraffic, trafficDrift } from '../core/drift.js';
import { activityContext } from './context.js';
import type { KubernetesActivities, ReleaseMetricsActivities, TimedObservation, TrafficBack, WatchAnswer, WatchRequest } from './types.js';
import { judgeBatch } from '../core/analysis.js';
import { WATCH_HEARTBEAT_EVERY_MS } from './watch.js';

export type TrafficCalls = Pick<KubernetesActivities, 'observeTraffic' | 'restoreTraffic'>;

/**
 * How long the watch gives the traffic undo, as the rollback gives its own traffic call: a call that
 * hangs is reported failed after it (the rollback runs the undo again, with its own attempts on record)
 * instead of holding the verdict — and the rollback — for the rest of the batch.
 */
export const TRAFFIC_BACK_TIMEOUT_MS = 20_000;

/**
 * Runs the request's traffic undo unless someone else moved traffic (`ownTraffic`: as the release
 * left it, half-way back with the router first, or as before) — a retry finishes an undo its lost
 * attempt cut short. Failures are data: the rollback runs the undo again anyway.
 */
export async function putTrafficBack(onFailed: NonNullable<WatchRequest['onFailed']>, k8s: TrafficCalls, timeoutMs = TRAFFIC_BACK_TIMEOUT_MS): Promise<TrafficBack> {
  const at = (): string => new Date().toISOString();
  let timer: NodeJS.Timeout | undefined;
  const undo = async (): Promise<TrafficBack> => {
    const observed = await k8s.observeTraffic(onFailed.target);
    if (!ownTraffic(onFailed.expected, expectedFromSnapshot(onFailed.snapshot, onFailed.target.traffic?.router), observed)) {
      return { at: at(), outcome: 'left', detail: trafficDrift(onFailed.expected, observed) ?? 'drift' };
    }
    await k8s.restoreTraffic({ target: onFailed.target, snapshot: onFailed.snapshot });
    return { at: at(), outcome: 'restored' };
  };
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Kubernetes within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return await Promise.race([undo(), late]);
  } catch (err) {
    return { at: at(), outcome: 'failed', detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The watch, and at a Failed verdict of a request with `onFailed` the traffic undo before it
 * answers (a WatchAnswer). A request without `onFailed` (a release started before this, on an older
 * worker) gets the plain list, as before. The heartbeat goes on with the batch's observations while
 * traffic moves, so a retry resumes with them and comes to the same verdict.
 */
export function restoringTraffic(watch: ReleaseMetricsActivities['watch'], k8s: TrafficCalls, ctxOf: () => Context | undefined = activityContext): ReleaseMetricsActivities['watch'] {
  return async (request) => {
    const answer = await watch(request);
    if (!request.onFailed) return answer;
    const observations: TimedObservation[] = Array.isArray(answer) ? answer : answer.observations;
    const ctx = ctxOf();
    // (cancelled meanwhile — an abort, another analysis's verdict: the rollback that follows moves traffic)
    if (judgeBatch(request.judge, observations).decided?.phase !== 'Failed' || ctx?.cancellationSignal.aborted) return { observations } satisfies WatchAnswer;
    const beat = ctx ? setInterval(() => ctx.heartbeat(observations), WATCH_HEARTBEAT_EVERY_MS) : undefined;
    try {
      return { observations, trafficBack: await putTrafficBack(request.onFailed, k8s) } satisfies WatchAnswer;
    } finally {
      clearInterval(beat);
    }
  };
}
