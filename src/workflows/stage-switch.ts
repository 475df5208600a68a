// The switch stage: all production traffic to the new color at once (blue-green), behind the drift
// guard and with the traffic undo registered first.
import { expectedAfterSwitch } from '../core/drift.js';
import { k8s, RETRY } from './release-activities.js';
import type { ReleaseContext, ServiceRun } from './release-context.js';
import { guardAgainstDrift } from './release-traffic.js';
import { deployNewColor } from './stage-canary.js';

export async function switchTraffic(ctx: ReleaseContext, service: ServiceRun): Promise<void> {
  const { svc, status: st, target, snapshot, newColor } = service;
  if (!service.deployed) await deployNewColor(ctx, service);
  await guardAgainstDrift(ctx, target, `switching to ${newColor}`, `switch to ${newColor} anyway`);
  ctx.register(`traffic:${svc.service}`, svc.service, `return ${svc.service} traffic to ${snapshot.activeColor}`, { type: 'restoreTraffic', target, snapshot });
  service.trafficMovedAt ??= Date.now();
  // (not a quick traffic call: the replicas router first rolls the new color out to full capacity, up to 90 s)
  await k8s.switchActive.executeWithOptions({ startToCloseTimeout: '2m', retry: RETRY, summary: `switch ${svc.service} to ${newColor}` }, [{ target, color: newColor }]);
  ctx.expectedTraffic.set(svc.service, expectedAfterSwitch(target.traffic?.router, newColor));
  ctx.trafficChangedAt.set(`${svc.service}/production`, Date.now());
  st.canaryWeight = 100;
  st.activeColor = newColor;
}
