// Builds every activity the release workflow calls from injected clients (DESIGN §3). Systems whose
// adapters are not wired yet fail at once, non-retryably, with a message naming what is missing —
// a release on such a worker ends "failed" with that reason instead of retrying forever.
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { createCoordinationActivities } from './temporal/index.js';
import type { GitHubActivities, KubernetesActivities, MetricsActivities, ReleaseActivities } from './types.js';

export interface ActivityDeps {
  temporal: Client;
  kubernetes?: KubernetesActivities;
  metrics?: MetricsActivities;
  github?: GitHubActivities;
}

function unavailable<T extends object>(system: string, names: (keyof T)[]): T {
  const fail = async (): Promise<never> => {
    throw ApplicationFailure.nonRetryable(`this worker has no ${system} adapter configured`, 'AdapterUnavailable');
  };
  return Object.fromEntries(names.map((n) => [n, fail])) as T;
}

const KUBERNETES: (keyof KubernetesActivities)[] = [
  'snapshotProduction', 'snapshotStaging', 'deployImage', 'setCanaryWeight', 'pointPreview', 'switchActive',
  'scaleDeployment', 'restoreTraffic', 'restoreWorkloads', 'restoreStaging',
];

export function createActivities(deps: ActivityDeps): ReleaseActivities {
  return {
    ...(deps.kubernetes ?? unavailable<KubernetesActivities>('Kubernetes', KUBERNETES)),
    ...(deps.metrics ?? unavailable<MetricsActivities>('Prometheus', ['measure'])),
    ...(deps.github ?? unavailable<GitHubActivities>('GitHub', ['awaitChecks', 'dispatchWorkflow', 'createDeployment', 'setDeploymentStatus', 'setCommitStatus'])),
    ...createCoordinationActivities(deps.temporal),
  };
}
