// The staging stage: the new image deployed to the service's staging Deployment (its undo registered
// first) and verified by the staging analyses before production is touched.
import type { StagingSpec } from '../core/release-spec.js';
import { runAnalyses } from './analysis.js';
import { k8s, local, localCalls, RETRY } from './release-activities.js';
import type { ReleaseContext, ServiceRun } from './release-context.js';

export async function staging(ctx: ReleaseContext, { svc }: ServiceRun, stg: StagingSpec): Promise<void> {
  const where = { namespace: stg.namespace, deployment: stg.deployment, ...ctx.inCluster };
  const stagingSnapshot = localCalls()
    ? await local.k8s.snapshotStaging.executeWithOptions({ startToCloseTimeout: '2m', retry: RETRY, summary: `snapshot staging ${stg.namespace}/${stg.deployment}` }, [where])
    : await k8s.snapshotStaging(where);
  const beforeDeploy = Date.now();
  await ctx.github.openDeployment(svc.service, 'staging', svc.image);
  ctx.register(`staging:${svc.service}`, svc.service, `restore staging ${stg.namespace}/${stg.deployment} to ${stagingSnapshot.deployment.image ?? 'its previous state'}`, {
    type: 'restoreStaging',
    snapshot: stagingSnapshot,
  });
  await k8s.deployImage.executeWithOptions(
    { startToCloseTimeout: stg.rolloutTimeout + 60_000, heartbeatTimeout: '30s', retry: RETRY, summary: `deploy ${svc.image} to staging` },
    [{ namespace: stg.namespace, deployment: stg.deployment, image: svc.image, timeoutMs: stg.rolloutTimeout, ...ctx.inCluster }],
  );
  ctx.trafficChangedAt.set(`${svc.service}/staging`, Date.now());
  if (stg.verify.length > 0) await runAnalyses(ctx, svc, 'staging', stg.verify, 'staging', { baselineEnd: beforeDeploy });
  await ctx.github.markDeployments(['success'], `${svc.image} verified in staging`, ctx.github.environmentName('staging', svc.service));
}
