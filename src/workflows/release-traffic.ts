// The drift guard: before a step that moves traffic or takes capacity away, the release reads where
// the service's traffic goes and compares it with where it left it, so that it never acts on a stale
// picture when someone else changed the traffic meanwhile.
import { patched } from '@temporalio/workflow';
import { trafficDrift, type ExpectedTraffic, type TrafficState } from '../core/drift.js';
import type { ProductionTarget } from '../core/snapshot.js';
import type { ServiceSpec } from '../core/release-spec.js';
import { k8s, local, localCalls, RETRY, TRAFFIC_CALL_TIMEOUT, TRAFFIC_HEARTBEAT_TIMEOUT } from './release-activities.js';
import type { ReleaseContext } from './release-context.js';
import { PATCHES } from './patches.js';

/** What the activities act on for a service's production (in the cluster of `inCluster`: ReleaseContext.inCluster). */
export const targetOf = (svc: ServiceSpec, inCluster: { cluster?: string } = {}): ProductionTarget => ({
  service: svc.service,
  namespace: svc.production.namespace,
  blueGreen: svc.production.blueGreen,
  ...(svc.production.canary ? { traffic: svc.production.canary.traffic } : {}),
  ...inCluster,
});

/** Where the service's production traffic goes now (a read; retried like any activity): the rollback's read, always a heartbeating activity. */
export const observeTraffic = (target: ProductionTarget, why: string): Promise<TrafficState> =>
  k8s.observeTraffic.executeWithOptions({ startToCloseTimeout: TRAFFIC_CALL_TIMEOUT, heartbeatTimeout: TRAFFIC_HEARTBEAT_TIMEOUT, retry: RETRY, summary: `read where ${target.service} traffic goes ${why}` }, [target]);

/** The same read before a forward step: a local activity in releases started with `local-calls`. */
const readTraffic = (target: ProductionTarget, why: string): Promise<TrafficState> =>
  localCalls()
    ? local.k8s.observeTraffic.executeWithOptions({ startToCloseTimeout: TRAFFIC_CALL_TIMEOUT, retry: RETRY, summary: `read where ${target.service} traffic goes ${why}` }, [target])
    : observeTraffic(target, why);

/**
 * Before a step that moves traffic or takes capacity away: reads where the service's traffic goes
 * now and, when someone else changed it since this release last did (drift), pauses with the
 * difference instead of acting on a stale picture — unless traffic is already where this step, or a
 * later weight of the same run, puts it (`goingTo`). A promote means "do it anyway"; an abort rolls
 * back what is still this release's. Returns the traffic as read last (undefined for releases
 * recorded before this guard existed, which replay without it).
 */
export async function guardAgainstDrift(ctx: ReleaseContext, target: ProductionTarget, before: string, promoteMeans: string, goingTo: readonly ExpectedTraffic[] = []): Promise<TrafficState | undefined> {
  const expected = ctx.expectedTraffic.get(target.service);
  if (!expected || !patched(PATCHES.driftGuard.id)) return undefined;
  const observed = await readTraffic(target, `before ${before}`);
  const drift = trafficDrift(expected, observed);
  if (!drift) return observed;
  // Traffic already where this step puts it: the step itself, run as a local activity in a workflow
  // task that then timed out (a worker too busy, or lost) and is run again now — not someone else.
  const own = ctx.ownStepRule ? goingTo.find((state) => trafficDrift(state, observed) === undefined) : undefined;
  if (own) {
    // the release's own doing: from here on it is where the release left it (the rollback undoes it)
    ctx.expectedTraffic.set(target.service, own);
    return observed;
  }
  ctx.record('drift', `drift: ${target.service} traffic changed outside this release: ${drift}`, { service: target.service });
  await ctx.pause({ code: 'traffic-drift', service: target.service, stage: ctx.status.stage }, `traffic of ${target.service} changed outside this release (${drift}); not ${before} — promote to ${promoteMeans}, abort to roll back what is still this release's`);
  return readTraffic(target, `after promote, before ${before}`);
}
