// Builds every activity the release workflow calls from injected clients. Systems whose
// adapters are not wired yet fail at once, non-retryably, with a message naming what is missing —
// a release on such a worker ends "failed" with that reason instead of retrying forever. Every result
// is checked before it leaves the worker: one JSON cannot carry unchanged (a NaN becomes null) fails
// loudly here instead of being judged as something else inside the workflow. Failed calls to
// Kubernetes, Prometheus and GitHub are counted (./metrics.ts).
import type { Client } from '@temporalio/client';
import { createCoordinationActivities } from './temporal/index.js';
import { createCalendarActivities, type CalendarConfig } from './calendar/index.js';
import { createSigningActivities, type SigningConfig } from './signing/index.js';
import { createNotifyActivities, type NotifyConfig } from './notify/index.js';
import { payloadHazards } from '../core/values.js';
import type { GitHubActivities, HookActivities, KubernetesActivities, MetricsActivities, ReleaseActivities } from './types.js';
import { failure } from '../core/failures.js';
import { countingErrors } from './metrics.js';
import { heartbeating } from './context.js';
import { restoringTraffic } from './watch-traffic.js';

export interface ActivityDeps {
  temporal: Client;
  kubernetes?: KubernetesActivities;
  metrics?: MetricsActivities;
  github?: GitHubActivities;
  /** Allowed signers and policy; none: no signer is trusted and signatures are not required. */
  signing?: SigningConfig;
  /** The worker's calendar (TIDEGATE_CALENDAR); none: the spec's windows and the global freeze only. */
  calendar?: CalendarConfig;
  /** Where notifications go; none: releases notify nobody (each notify returns at once). */
  notify?: NotifyConfig;
  /** Hook stages (Jobs and HTTP calls); none: a release with hooks fails at its first one naming the missing adapter. */
  hooks?: HookActivities;
}

function unavailable<T extends object>(system: string, names: (keyof T)[]): T {
  const fail = async (): Promise<never> => {
    throw failure('AdapterUnavailable', `this worker has no ${system} adapter configured`);
  };
  return Object.fromEntries(names.map((n) => [n, fail])) as T;
}

const KUBERNETES: (keyof KubernetesActivities)[] = [
  'snapshotProduction', 'snapshotStaging', 'deployImage', 'setCanaryWeight', 'pointPreview', 'switchActive',
  'scaleDeployment', 'restoreTraffic', 'restoreWorkloads', 'restoreStaging', 'observeTraffic',
];

/** The calls the workflow schedules with a heartbeat timeout (TRAFFIC_HEARTBEAT_TIMEOUT): they heartbeat while they run. */
const TRAFFIC_CALLS: (keyof KubernetesActivities)[] = ['setCanaryWeight', 'observeTraffic', 'restoreTraffic'];

export function createActivities(deps: ActivityDeps): ReleaseActivities {
  const kubernetes = deps.kubernetes ? countingErrors('kubernetes', deps.kubernetes) : unavailable<KubernetesActivities>('Kubernetes', KUBERNETES);
  const metrics = deps.metrics ? countingErrors('prometheus', deps.metrics) : unavailable<MetricsActivities>('Prometheus', ['measure', 'watch']);
  return payloadSafe({
    ...(deps.kubernetes ? heartbeating(kubernetes, TRAFFIC_CALLS) : kubernetes),
    ...metrics,
    // (the watch heartbeats its own observations while it moves traffic: the calls must not heartbeat over them)
    watch: restoringTraffic(metrics.watch, kubernetes),
    ...(deps.github ? countingErrors('github', deps.github) : unavailable<GitHubActivities>('GitHub', ['awaitChecks', 'dispatchWorkflow', 'createDeployment', 'setDeploymentStatus', 'setCommitStatus', 'listTags'])),
    ...createCoordinationActivities(deps.temporal),
    ...createSigningActivities(deps.signing ?? { requireSigned: false }),
    ...createCalendarActivities(deps.temporal, deps.calendar),
    ...createNotifyActivities(deps.notify),
    ...(deps.hooks ?? unavailable<HookActivities>('hooks', ['runHook'])),
  });
}

/**
 * The same activities, each failing non-retryably when its result holds a value the payload
 * converter would change (NaN, ±Infinity, undefined in an array, …), naming where it is.
 */
export function payloadSafe<T extends object>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function') continue;
    wrapped[name] = async (...args: unknown[]): Promise<unknown> => {
      const result: unknown = await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      const hazards = payloadHazards(result);
      if (hazards.length > 0) {
        throw failure('UnsafePayload', `activity ${name} returned values JSON cannot carry unchanged (${hazards.join(', ')}); this is a bug in its adapter`);
      }
      return result;
    };
  }
  return wrapped as T;
}
