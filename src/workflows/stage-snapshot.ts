// Before the release changes anything: production as it is, for every service of the plan. Each
// service's run starts from its snapshot (which color is live, what the rollback restores).
import { expectedFromSnapshot } from '../core/drift.js';
import { planStages } from '../core/plan.js';
import { otherColor } from '../core/snapshot.js';
import { k8s, local, localCalls, RETRY } from './release-activities.js';
import type { ReleaseContext, ServiceRun } from './release-context.js';
import { targetOf } from './release-traffic.js';

/** The services in release order, each with its snapshot and stages. */
export async function snapshot(ctx: ReleaseContext): Promise<ServiceRun[]> {
  const services: ServiceRun[] = [];
  for (const p of ctx.plan.services) {
    const svc = ctx.specOf.get(p.service);
    if (!svc) continue;
    const target = targetOf(svc, ctx.inCluster);
    const options = { startToCloseTimeout: '2m', retry: RETRY, summary: `snapshot ${svc.service} in ${svc.production.namespace}${ctx.part ? ` of ${ctx.part.cluster.name}` : ''}` };
    const snapshot = localCalls() ? await local.k8s.snapshotProduction.executeWithOptions(options, [target]) : await k8s.snapshotProduction.executeWithOptions(options, [target]);
    const st = ctx.serviceStatus(svc.service);
    st.activeColor = snapshot.activeColor;
    st.newColor = otherColor(snapshot.activeColor);
    ctx.record('snapshot', `snapshot: ${snapshot.activeColor} live with ${snapshot.deployments[snapshot.activeColor].image ?? 'no image'}; releasing to ${st.newColor}`, { service: svc.service });
    ctx.expectedTraffic.set(svc.service, expectedFromSnapshot(snapshot, svc.production.canary?.traffic.router));
    services.push({ svc, status: st, stages: planStages(svc), target, snapshot, newColor: otherColor(snapshot.activeColor), deployed: false });
  }
  return services;
}
