// The scale-down stage: once every service is released, each old color stays warm for its
// scaleDownDelay (an instant rollback), then goes to zero replicas — unless it serves traffic again.
import { sleep } from '@temporalio/workflow';
import { servingColors } from '../core/drift.js';
import { k8s, local, localCalls, RETRY } from './release-activities.js';
import type { ReleaseContext, ServiceRun } from './release-context.js';
import { guardAgainstDrift } from './release-traffic.js';

export async function scaleDown(ctx: ReleaseContext, released: ServiceRun[]): Promise<void> {
  ctx.setStage('scale-down');
  await Promise.all(
    released.map(async ({ svc, snapshot, target }) => {
      const delay = svc.production.blueGreen.scaleDownDelay;
      const old = `${svc.production.blueGreen.deploymentPrefix}-${snapshot.activeColor}`;
      ctx.record('scale-down-delayed', `keeping ${snapshot.activeColor} warm for ${Math.round(delay / 1000)}s`, { service: svc.service });
      await sleep(delay, { summary: `scale-down delay for ${svc.service}-${snapshot.activeColor}` });
      // never take down the color that serves: traffic may have been moved back since the switch
      const observed = await guardAgainstDrift(ctx, target, `scaling ${old} down`, `end the release without scaling ${old} down`);
      if (observed && servingColors(observed).includes(snapshot.activeColor)) {
        ctx.record('scale-down-spared', `left ${old} running: it serves ${svc.service} traffic`, { service: svc.service });
        return;
      }
      const scale = { namespace: svc.production.namespace, deployment: old, replicas: 0, ...ctx.inCluster };
      if (localCalls()) await local.k8s.scaleDeployment.executeWithOptions({ startToCloseTimeout: '2m', retry: RETRY, summary: `scale ${old} to 0` }, [scale]);
      else await k8s.scaleDeployment(scale);
      ctx.record('scaled-down', `scaled ${old} down`, { service: svc.service });
    }),
  );
}
