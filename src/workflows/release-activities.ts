// The release workflow's activity proxies, with their timeouts and retry policy, in one place: every
// stage schedules its activities with exactly these options, and the options are part of the history.
import { ActivityFailure, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { CoordinationActivities, GitHubActivities, KubernetesActivities, MetricsActivities, ReleaseMetricsActivities, SigningActivities } from '../activities/types.js';
import { PATCHES } from './patches.js';

export const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 };
/**
 * The start-to-close timeout of a call that moves or reads traffic without waiting for anything (a
 * canary weight, the drift guard's read, the rollback's traffic undo: one or a few Kubernetes API
 * requests): a worker lost in the middle of one delays the release — or its rollback — by this at
 * most before the call is retried elsewhere, not by minutes. (The switch is not one: the replicas
 * router rolls the new color out first.)
 */
export const TRAFFIC_CALL_TIMEOUT = '20s';
/**
 * The heartbeat timeout of those calls (they heartbeat every second while they run): a worker lost
 * in the middle of one costs this, not the 20 s start-to-close (measured by the monitor-detection
 * benchmark: a worker killed just as the verdict came lost the rollback's traffic read, 31.5 s).
 */
export const TRAFFIC_HEARTBEAT_TIMEOUT = '5s';

export const k8s = proxyActivities<KubernetesActivities>({ startToCloseTimeout: '2m', retry: RETRY });
export const coordination = proxyActivities<CoordinationActivities>({ startToCloseTimeout: '30s', retry: RETRY });
export const github = proxyActivities<GitHubActivities>({ startToCloseTimeout: '2m', retry: RETRY });
export const metrics = proxyActivities<ReleaseMetricsActivities>({ startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 } });
/** Signed decisions: reading the worker's allowed signers (retried while a mounted file is missing), verifying a signature. */
export const signing = proxyActivities<SigningActivities>({ startToCloseTimeout: '30s', retry: RETRY });
/** Verifying a signed decision: a person waits for the answer, so three quick attempts, then the decision is refused as unverifiable for now. */
export const verification = proxyActivities<Pick<SigningActivities, 'verifyStatement'>>({ startToCloseTimeout: '30s', retry: { ...RETRY, maximumAttempts: 3 } });
/** Compensations retry in the workflow, so that every failed attempt is on record in `status`. */
export const undo = proxyActivities<KubernetesActivities>({ startToCloseTimeout: '2m', retry: { maximumAttempts: 1 } });

/**
 * The release's cheap calls — a read, or one write that setting again does no harm (a canary
 * weight, the preview Service's selector, a scale to zero): one or a few API requests each. In
 * releases started with the patch `local-calls` they run as local activities, in the worker that
 * runs the release's workflow task, so that a step costs no round trip through the server's task
 * queues (the overhead benchmark, measured together: 25 workflow tasks and 17 activities per
 * release before, 14 and 5 after; on the dev server p50 815 → 450–480 ms). Their results are in the history as before,
 * as `core_local_activity` markers; the Temporal UI shows them as local activities, with their
 * summary. What stays a (remote) activity: anything that waits (rollouts, the switch, hooks,
 * GitHub, the monitor's watch), signed-decision reads that `verify` audits, and every compensation
 * — a lost worker in the middle of a local call costs the workflow task's timeout (10 s), a
 * heartbeating remote one its heartbeat timeout (5 s), and the rollback must not be slower to put
 * traffic back.
 */
export const local = {
  k8s: proxyLocalActivities<Pick<KubernetesActivities, 'snapshotProduction' | 'snapshotStaging' | 'observeTraffic' | 'setCanaryWeight' | 'pointPreview' | 'scaleDeployment'>>({ startToCloseTimeout: '2m', retry: RETRY }),
  metrics: proxyLocalActivities<Pick<MetricsActivities, 'measure'>>({ startToCloseTimeout: '1m', retry: { ...RETRY, maximumAttempts: 3 } }),
};

/** Whether this release makes its cheap calls as local activities (see `local`); releases started before the patch schedule them. */
export const localCalls = (): boolean => patched(PATCHES.localCalls.id);

/**
 * Asks every patch in a release's first workflow task, before its first local activity, when the
 * release makes its cheap calls as local activities, and returns the ids answered yes. A yes stays
 * (patched() decides once); a no does not when the task is replayed — the SDK answers false for a
 * marker missing from the history, and yes when the same release later runs live — so a rule that
 * must not start half-way through a release (one added after the release started) reads these
 * answers instead of asking again. Why in the first task: a patch first asked right after a local activity
 * resolved in the same workflow task recorded its marker after the activity's marker, and a worker
 * that rebuilt such a release from its history — a restarted worker, a query of a release no worker
 * had in its cache — twice failed its workflow task with "[TMPRL1100] Nondeterminism error:
 * Non-deprecated patch marker encountered … but there is no corresponding change command" (both
 * seen under test, never reproduced by replaying the same histories in the SDK's replayer). With
 * every marker recorded in the first task, ahead of any local activity, no release takes that path.
 * Releases started before `local-calls` keep asking each patch where they always did, so their
 * histories replay as recorded; test/workflows/patches.test.ts checks the order in every fixture.
 */
export function askEveryPatch(): ReadonlySet<string> {
  if (!localCalls()) return new Set();
  return new Set(Object.values(PATCHES).flatMap((patch) => (patched(patch.id) ? [patch.id] : [])));
}

/** What went wrong, in words: an activity's own error rather than the wrapper's. */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
