// The canary stage: the new color deployed next to the live one, then the spec's steps in order —
// traffic weights (each behind the drift guard, its undo registered first), pauses, analyses.
import { expectedAfterWeight } from '../core/drift.js';
import { ownWeightsAhead, type PlannedStep } from '../core/plan.js';
import { runAnalyses } from './analysis.js';
import { k8s, local, localCalls, RETRY, TRAFFIC_CALL_TIMEOUT, TRAFFIC_HEARTBEAT_TIMEOUT } from './release-activities.js';
import type { ReleaseContext, ServiceRun } from './release-context.js';
import { guardAgainstDrift } from './release-traffic.js';

export async function canary(ctx: ReleaseContext, service: ServiceRun, steps: PlannedStep[]): Promise<void> {
  const { svc, status: st, target, snapshot, newColor } = service;
  await deployNewColor(ctx, service);
  for (const planned of steps) {
    if (ctx.requests.skipCanary) {
      ctx.record('canary-step-skipped', `canary step ${planned.index + 1} (${planned.label}) skipped by promote --full`, { service: svc.service, stage: 'canary' });
      continue;
    }
    st.step = { index: planned.index, label: planned.label, total: steps.length };
    const step = planned.step;
    if (step.kind === 'setWeight') {
      const goingTo = expectedAfterWeight(target.traffic?.router, snapshot.activeColor, newColor, step.weight);
      // this step's weight, or a later one of the same run of weights (set in the same lost workflow task)
      const own = ownWeightsAhead(steps, steps.indexOf(planned)).map((w) => expectedAfterWeight(target.traffic?.router, snapshot.activeColor, newColor, w));
      await guardAgainstDrift(ctx, target, `setting ${step.weight}% on ${newColor}`, `set ${step.weight}% on ${newColor} anyway`, own);
      ctx.register(`traffic:${svc.service}`, svc.service, `return ${svc.service} traffic to ${snapshot.activeColor}`, { type: 'restoreTraffic', target, snapshot });
      service.trafficMovedAt ??= Date.now();
      const weight = [{ target, color: newColor, weight: step.weight }] as const;
      const summary = `${step.weight}% to ${newColor}`;
      if (localCalls()) await local.k8s.setCanaryWeight.executeWithOptions({ startToCloseTimeout: TRAFFIC_CALL_TIMEOUT, retry: RETRY, summary }, [...weight]);
      else await k8s.setCanaryWeight.executeWithOptions({ startToCloseTimeout: TRAFFIC_CALL_TIMEOUT, heartbeatTimeout: TRAFFIC_HEARTBEAT_TIMEOUT, retry: RETRY, summary }, [...weight]);
      ctx.expectedTraffic.set(svc.service, goingTo);
      ctx.trafficChangedAt.set(`${svc.service}/production`, Date.now());
      st.canaryWeight = step.weight;
      ctx.record('canary-weight', `canary weight ${step.weight}% on ${newColor}`, { service: svc.service, stage: 'canary' });
    } else if (step.kind === 'pause') {
      const pause = { code: step.durationMs === undefined ? 'awaiting-promote' : 'step-pause', service: svc.service, stage: 'canary', step: planned.index + 1 } as const;
      await ctx.pause(pause, step.durationMs === undefined ? `canary step ${planned.index + 1}: waiting for promote` : `canary step ${planned.index + 1}: ${planned.label}`, step.durationMs);
    } else {
      await runAnalyses(ctx, svc, 'canary', step.analyses, newColor, { step: planned.index, baselineColor: snapshot.activeColor });
    }
  }
  st.step = undefined;
}

/**
 * The new image on the color that does not serve (its undo registered first), scaled like the live
 * one; the preview Service points at it. The canary does this first; without a canary, the switch.
 */
export async function deployNewColor(ctx: ReleaseContext, service: ServiceRun): Promise<void> {
  const { svc, target, snapshot, newColor } = service;
  const prod = svc.production;
  await ctx.github.openDeployment(svc.service, 'production', svc.image);
  ctx.register(`workloads:${svc.service}`, svc.service, `restore ${prod.blueGreen.deploymentPrefix}-blue/-green to their snapshot`, { type: 'restoreWorkloads', target, snapshot });
  const replicas = Math.max(1, snapshot.deployments[snapshot.activeColor].replicas);
  await k8s.deployImage.executeWithOptions(
    { startToCloseTimeout: prod.rolloutTimeout + 60_000, heartbeatTimeout: '30s', retry: RETRY, summary: `deploy ${svc.image} to ${newColor}` },
    [{ namespace: prod.namespace, deployment: `${prod.blueGreen.deploymentPrefix}-${newColor}`, image: svc.image, replicas, timeoutMs: prod.rolloutTimeout, ...ctx.inCluster }],
  );
  if (prod.blueGreen.previewService) {
    ctx.register(`traffic:${svc.service}`, svc.service, `return ${svc.service} traffic to ${snapshot.activeColor}`, { type: 'restoreTraffic', target, snapshot });
    if (localCalls()) await local.k8s.pointPreview.executeWithOptions({ startToCloseTimeout: '2m', retry: RETRY, summary: `preview ${svc.service} on ${newColor}` }, [{ target, color: newColor }]);
    else await k8s.pointPreview({ target, color: newColor });
  }
  service.deployed = true;
}
