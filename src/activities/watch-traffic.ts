// Why the monitor's watch puts traffic back itself: a fault after the switch must cost users one
// interval, not the release's next workflow task too. That task goes to the worker that ran the
// last one; when that worker is gone, the server holds it there for up to 10 s (the sticky queue)
// before another worker gets it. The watch that saw the Failed verdict is already running — or, when
// its worker was the one lost, is retried on another worker within its heartbeat timeout and comes to
// the same verdict from its heartbeat — so it runs the saga's first undo before it returns: the
// release's traffic undo, guarded as the rollback guards it (traffic someone else moved is left
// alone). The rollback then runs the same undo again, which finds nothing left to do.
import type { Context } from '@temporalio/activity';
import { expectedFromSnapshot, ourTrafficOrBefore, trafficDrift } from '../core/drift.js';
import { activityContext } from './context.js';
import type { KubernetesActivities, ReleaseMetricsActivities, TimedObservation, TrafficBack, WatchAnswer, WatchRequest } from './types.js';
import { judgeBatch, WATCH_HEARTBEAT_EVERY_MS } from './watch.js';

export type TrafficCalls = Pick<KubernetesActivities, 'observeTraffic' | 'restoreTraffic'>;

/**
 * Runs the request's traffic undo unless someone else moved traffic: each part of it (the Service's
 * selection, the router's split) must be where the release left it or as before — a retry finishes
 * an undo its lost attempt cut short. Failures are data: the rollback runs the undo again anyway.
 */
export async function putTrafficBack(onFailed: NonNullable<WatchRequest['onFailed']>, k8s: TrafficCalls, now: () => Date = () => new Date()): Promise<TrafficBack> {
  try {
    const observed = await k8s.observeTraffic(onFailed.target);
    if (!ourTrafficOrBefore(onFailed.expected, expectedFromSnapshot(onFailed.snapshot, onFailed.target.traffic?.router), observed)) {
      return { at: now().toISOString(), outcome: 'left', detail: trafficDrift(onFailed.expected, observed) ?? 'drift' };
    }
    await k8s.restoreTraffic({ target: onFailed.target, snapshot: onFailed.snapshot });
    return { at: now().toISOString(), outcome: 'restored' };
  } catch (err) {
    return { at: now().toISOString(), outcome: 'failed', detail: err instanceof Error ? err.message : String(err) };
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
    if (judgeBatch(request, observations).decided?.phase !== 'Failed') return { observations } satisfies WatchAnswer;
    const ctx = ctxOf();
    const beat = ctx ? setInterval(() => ctx.heartbeat(observations), WATCH_HEARTBEAT_EVERY_MS) : undefined;
    try {
      return { observations, trafficBack: await putTrafficBack(request.onFailed, k8s) } satisfies WatchAnswer;
    } finally {
      clearInterval(beat);
    }
  };
}
