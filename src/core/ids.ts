// Release identity: a release is `<service>@<version>` (or `<release>@<version>` for a
// multi-service spec), which is also its Temporal workflow id, so that a retried start finds it.

export const TASK_QUEUE = 'tidegate';

export function releaseId(name: string, version: string): string {
  return `${name}@${version}`;
}

/** parseReleaseId('checkout@1.4.2') → { name: 'checkout', version: '1.4.2' } */
export function parseReleaseId(id: string): { name: string; version: string } | undefined {
  const at = id.indexOf('@');
  if (at <= 0 || at === id.length - 1) return undefined;
  return { name: id.slice(0, at), version: id.slice(at + 1) };
}

/**
 * One cluster's release in a release across clusters (a child workflow of the parent release).
 *
 *   clusterReleaseId('checkout@2.0.0', 'eu-1') → 'checkout@2.0.0/eu-1'
 */
export function clusterReleaseId(parent: string, cluster: string): string {
  return `${parent}/${cluster}`;
}

/**
 * Whether a release id is one cluster's release: no other release id holds a '/' (names are DNS
 * labels, versions letters, digits and . _ + -).
 *
 *   isClusterReleaseId('checkout@2.0.0/eu-1') → true;  isClusterReleaseId('checkout@2.0.0') → false
 */
export function isClusterReleaseId(id: string): boolean {
  return id.includes('/');
}

/** The workflow that holds a service's one-release-at-a-time lock. */
export function serviceLockId(service: string): string {
  return `tidegate-lock/${service}`;
}

/** How a lock workflow is started, by a release or by a client for one (the same id, memo and text in the UI). */
export function serviceLockStart(service: string, holder: string) {
  return {
    workflowId: serviceLockId(service),
    args: [{ service, holder }] as [{ service: string; holder: string }],
    memo: { holder },
    staticSummary: `${service} is being released by ${holder}`,
    staticDetails: `The lock of **${service}**: one release at a time changes it. Held by **${holder}** until that release ends (it signals unlock), or until it is found no longer running.`,
  };
}

/**
 * A lock a client took for a release it is about to start (`Releases.startMany`) names a release
 * that does not exist yet, for the moment between the two starts. For this long such a lock counts
 * as held; after it, a holder that never started is a client that died in between.
 */
export const UNSTARTED_HOLDER_GRACE_MS = 60_000;

/**
 * A service lock as read from the server (the `describeServiceLock` activity's result, recorded in
 * histories: its field names stay).
 */
export interface LockState {
  /** Release id holding the service lock, if the lock workflow runs. */
  holder?: string;
  /**
   * Whether the lock still holds the service (lockHeld): its release runs, or has not started yet
   * within UNSTARTED_HOLDER_GRACE_MS. False means stale: the next release may break it.
   */
  holderRunning: boolean;
}

/** What the server says of the release a lock names. */
export type HolderState = 'running' | 'closed' | 'absent';

/**
 * Whether a service lock still holds the service, from its holder's state and the lock's age; a lock
 * that does not is stale, and the next release may break it.
 *
 *   running, lock 3 h old          → held (a release waiting for its approvers)
 *   closed, lock 2 s old           → stale (it ended without giving the lock back)
 *   absent, lock 5 s old           → held (a client between taking the lock and starting the release)
 *   absent, lock 60 s old          → stale (that client died in between)
 */
export function lockHeld(holder: HolderState, lockAgeMs: number): boolean {
  return holder === 'running' || (holder === 'absent' && lockAgeMs < UNSTARTED_HOLDER_GRACE_MS);
}

/** Why a start is refused while another release holds a service (client and workflow say the same). */
export function lockedMessage(service: string, holder: string): string {
  return `${service} is being released by ${holder}; wait for it, abort it, or start with --supersede`;
}

/**
 * What a lock is held on: a service, or a service in one cluster of a release across clusters (its
 * kubeconfig context). One release per service per cluster; a release that names no cluster keeps
 * the key it always had, so its lock's workflow id is unchanged.
 *
 *   lockKey('checkout')              → 'checkout'
 *   lockKey('checkout', 'eu-1-prod') → 'checkout@eu-1-prod'
 */
export function lockKey(service: string, context?: string): string {
  return context === undefined ? service : `${service}@${context}`;
}

/**
 * The locks of a release in the order they are taken: each key once, sorted, so that two releases
 * sharing services never wait for each other in a cycle. With clusters, every service in every one.
 *
 *   lockOrder([{service: 'b'}, {service: 'a'}])                     → ['a', 'b']
 *   lockOrder([{service: 'b'}, {service: 'a'}], ['us-1', 'eu-1'])   → ['a@eu-1', 'a@us-1', 'b@eu-1', 'b@us-1']
 */
export function lockOrder(services: readonly { service: string }[], contexts: readonly string[] = []): string[] {
  const keys = services.flatMap((s) => (contexts.length ? contexts.map((c) => lockKey(s.service, c)) : [lockKey(s.service)]));
  return [...new Set(keys)].sort();
}
