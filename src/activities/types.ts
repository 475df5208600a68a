// The activities the release workflow calls, as typed interfaces. Workflows import this file
// type-only; src/activities/<system>/ implement it (issues [4]–[6]) and tests provide typed mocks.
// Signatures speak of facts and desired states ("send N% to color X"), never of one router.
import type { BatchJudge, Observation } from '../core/analysis.js';
import type { ExpectedTraffic, TrafficState } from '../core/drift.js';
import type { LockState } from '../core/ids.js';
import type { Color, ProductionSnapshot, ProductionTarget, StagingSnapshot } from '../core/snapshot.js';
import type { AllowedSigner } from '../core/allowed-signers.js';
import type { OidcProof, TrustedIssuer } from '../core/approval.js';
import type { SignedStatement } from '../core/statement.js';
import type { WindowsSpec } from '../core/release-spec.js';
import type { CalendarAnswer } from '../core/windows.js';
import type { NotificationEvent } from '../core/notifications.js';
import type { HookOutcome, HookRun } from '../core/hooks.js';

export type { ProductionTarget, TrafficState };

export interface DeployRequest {
  namespace: string;
  deployment: string;
  image: string;
  /** Desired replicas; omitted keeps the Deployment's own. */
  replicas?: number;
  /** Fail when not rolled out by then. The activity heartbeats while it waits. */
  timeoutMs: number;
  /** The kubeconfig context (absent: the worker's current one). */
  cluster?: string;
}

/** A Deployment by name, in a cluster (the kubeconfig context; absent: the worker's current one). */
export interface DeploymentRef {
  namespace: string;
  deployment: string;
  cluster?: string;
}

export interface KubernetesActivities {
  /** The state rollback restores: active color, images and replicas per color, router weights. */
  snapshotProduction(target: ProductionTarget): Promise<ProductionSnapshot>;
  snapshotStaging(input: DeploymentRef): Promise<StagingSnapshot>;
  /** Sets the image (and replicas) and waits until the rollout is complete; heartbeats; honours cancellation. */
  deployImage(input: DeployRequest): Promise<{ readyReplicas: number }>;
  /** Sends `weight` percent of the service's traffic to `color` and the rest to the other color. */
  setCanaryWeight(input: { target: ProductionTarget; color: Color; weight: number }): Promise<void>;
  /** Points the preview Service (if any) at `color`. */
  pointPreview(input: { target: ProductionTarget; color: Color }): Promise<void>;
  /** Makes `color` live: the active Service selects it and the router sends it 100%. */
  switchActive(input: { target: ProductionTarget; color: Color }): Promise<void>;
  scaleDeployment(input: DeploymentRef & { replicas: number }): Promise<void>;
  /** Puts traffic back exactly as the snapshot had it (active selector, router weights, preview). Seconds. */
  restoreTraffic(input: { target: ProductionTarget; snapshot: ProductionSnapshot }): Promise<void>;
  /**
   * Puts both colors' Deployments back as the snapshot had them (images, replicas), except the
   * `spare` colors, which are left as they are (they serve traffic now).
   */
  restoreWorkloads(input: { target: ProductionTarget; snapshot: ProductionSnapshot; spare?: Color[] }): Promise<void>;
  /** Where production traffic goes now: the active Service's selection, the router's split, replicas per color. Reads only. */
  observeTraffic(target: ProductionTarget): Promise<TrafficState>;
  restoreStaging(input: { snapshot: StagingSnapshot }): Promise<void>;
}

export interface MeasureRequest {
  /** The query with the template variables already rendered. */
  query: string;
  /** Range query: one observation per step between start and end (ISO times). */
  range?: { start: string; end: string; stepMs: number };
  /** Instant query evaluated at this time (ISO) rather than now; ignored for a range query. */
  at?: string;
}

/**
 * A monitor batch watched as it happens: one instant measurement at `firstAt`, then every
 * `intervalMs`, none after `until`; the watch returns early once the judge decides the run (a Failed
 * or Inconclusive verdict), so a fault is acted on within an interval, not at the batch's end.
 */
export interface WatchRequest {
  query: string;
  /** ISO time of the batch's first measurement. */
  firstAt: string;
  intervalMs: number;
  /** ISO time after which the batch takes no measurement. */
  until: string;
  /** The analysis's judge, and the tally of the run's measurements before this batch. */
  judge: BatchJudge;
  /**
   * The release's traffic undo, for the watch to run itself at a Failed verdict before it returns
   * (src/activities/watch-traffic.ts): traffic leaves the bad color within the watch's interval
   * whatever becomes of the release's next workflow task. Guarded by `ownTraffic` (src/core/drift.ts):
   * traffic not as the release left it (`expected`), half-way back (the router first) or as in the
   * snapshot is someone else's doing and left alone.
   */
  onFailed?: { target: ProductionTarget; snapshot: ProductionSnapshot; expected: ExpectedTraffic };
}

export interface TimedObservation {
  at: string;
  observation: Observation;
}

/** What a watch did about traffic at its Failed verdict (only asked with `onFailed`). */
export interface TrafficBack {
  /** ISO time the watch finished with traffic. */
  at: string;
  /** restored: traffic is back as in the snapshot; left: someone else moved it (their change stands); failed: the calls failed (the rollback tries again). */
  outcome: 'restored' | 'left' | 'failed';
  /** The drift that was left alone, or the error. */
  detail?: string;
}

/** A watch's answer to a request with `onFailed`: its observations, and what it did about traffic at a Failed verdict. */
export interface WatchAnswer {
  observations: TimedObservation[];
  trafficBack?: TrafficBack;
}

export interface MetricsActivities {
  /** Instant query now, or a range query; backend failures and empty results are data, not throws. */
  measure(request: MeasureRequest): Promise<TimedObservation[]>;
  /**
   * Watches a monitor batch (WatchRequest): exactly one observation per scheduled time, in order,
   * heartbeating those taken so far; a retry after a lost worker resumes after them.
   */
  watch(request: WatchRequest): Promise<TimedObservation[]>;
}

/**
 * The metrics calls as the workflow makes them: the watch composed with the traffic undo
 * (src/activities/watch-traffic.ts) answers a request with `onFailed` with a WatchAnswer, any
 * other with the list alone, as before.
 */
export type ReleaseMetricsActivities = Omit<MetricsActivities, 'watch'> & {
  watch(request: WatchRequest): Promise<TimedObservation[] | WatchAnswer>;
};

export interface BuildCheckResult {
  conclusion: 'success' | 'failure' | 'timed-out';
  /** Checks that failed or are missing, by name, with their conclusion. */
  failing: { name: string; conclusion: string }[];
}

export type GitHubDeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive' | 'error';

export interface GitHubActivities {
  /** Waits (heartbeating) until every required check run on sha has completed, or the timeout. */
  awaitChecks(input: { repo: string; sha: string; requiredChecks: string[]; timeoutMs: number }): Promise<BuildCheckResult>;
  /**
   * Dispatches a GitHub Actions workflow on `ref` and waits (heartbeating) for that run to complete.
   * The run's id is kept in the heartbeat details, so a retried attempt waits for the same run
   * instead of dispatching another.
   */
  dispatchWorkflow(input: { repo: string; workflow: string; ref: string; inputs?: Record<string, string>; timeoutMs: number }): Promise<BuildCheckResult & { runUrl?: string }>;
  /**
   * The release's GitHub Deployment of `environment` for sha: created once, and found again by its
   * payload's releaseId when a retry runs after a create whose response was lost.
   */
  createDeployment(input: { repo: string; sha: string; environment: string; releaseId: string; description: string }): Promise<{ deploymentId: number }>;
  /** Adds a status to the deployment (skipped when its latest status already says the same), linking the release. */
  setDeploymentStatus(input: { repo: string; deploymentId: number; state: GitHubDeploymentState; description: string; releaseId: string }): Promise<void>;
  /** Sets the commit status `context` on sha, linking the release. */
  setCommitStatus(input: { repo: string; sha: string; context: string; state: 'pending' | 'success' | 'failure' | 'error'; description: string; releaseId: string }): Promise<void>;
  /** The repository's tags with their commits, as GitHub lists them (newest first), at most `limit` (default 300). */
  listTags(input: { repo: string; limit?: number }): Promise<{ name: string; sha: string }[]>;
}

export type { LockState };

export interface CoordinationActivities {
  describeServiceLock(input: { service: string }): Promise<LockState>;
  /** Ends a lock whose holder release is no longer running. */
  breakStaleLock(input: { service: string; holder: string }): Promise<void>;
  isReleaseRunning(input: { releaseId: string }): Promise<boolean>;
  /** Which of these release ids a release was ever started with (running or ended, within retention). */
  releasesExisting(input: { releaseIds: string[] }): Promise<string[]>;
}

export type { CalendarAnswer };

export interface CalendarActivities {
  /** The spec's windows against the worker's calendar and the global freeze, at `at` (the workflow's time, ISO). */
  checkCalendar(input: { windows?: WindowsSpec; at: string }): Promise<CalendarAnswer>;
}

/** What one notification reached: the sinks that accepted it (by name, never by URL). */
export interface NotifyResult {
  delivered: string[];
  /** Set when the worker has no sink configured: nothing was sent, and nothing needs to be. */
  none?: true;
}

export interface NotifyActivities {
  /**
   * Sends one event to every sink the worker has (TIDEGATE_SLACK_WEBHOOK_URL, TIDEGATE_WEBHOOK_URL),
   * each request carrying the event's key as Idempotency-Key; a retried attempt skips the sinks an
   * earlier attempt recorded as delivered. A sink that refuses the message fails it non-retryably.
   */
  notify(event: NotificationEvent): Promise<NotifyResult>;
}

/** The worker's allowed signers and signature policy, as read when an approval gate opens. */
export interface SignerTrust {
  /** Where the list came from (a file path), or "none" when the worker has none configured. */
  source: string;
  /** SHA-256 (hex) of the file's bytes, so an auditor can match the file they hold. */
  sha256: string;
  signers: AllowedSigner[];
  /** The OIDC issuers this worker trusts (TIDEGATE_OIDC_ISSUERS); absent when none is configured. */
  oidc?: TrustedIssuer[];
  /** TIDEGATE_REQUIRE_SIGNED on this worker. */
  requireSigned: boolean;
}

export interface VerifiedSignature {
  /** The SSH key type (ssh-ed25519, …), or `oidc <alg>` for an ID token. */
  keyType: string;
  /** As `ssh-keygen -l` prints it: SHA256:…; for an ID token `<issuer>#<kid>`. */
  fingerprint: string;
  /** An ID token: its issuer, key and subject. */
  oidc?: OidcProof;
  kind?: 'oidc';
}

export interface SigningActivities {
  /** The allowed signers and policy of this worker (TIDEGATE_ALLOWED_SIGNERS, TIDEGATE_REQUIRE_SIGNED); a bad file fails non-retryably naming its lines. */
  readSignerTrust(input: { for: 'start' } | { for: 'gate'; service: string }): Promise<SignerTrust>;
  /**
   * Verifies a signed statement against the given keys (base64 blobs) and, for a start, that it was
   * signed for `spec` (its digest); a bad signature or another spec fails non-retryably
   * (SignatureInvalid) with the reason.
   */
  verifyStatement(input: { signed: SignedStatement; keys: string[]; namespace: string; spec?: unknown }): Promise<VerifiedSignature>;
}

export type { HookOutcome, HookRun };

export interface HookActivities {
  /** Runs a hook (or its undo): creates its Job (or finds the one an earlier attempt created) and waits for it, heartbeating; or makes its call. */
  runHook(run: HookRun): Promise<HookOutcome>;
}

export type ReleaseActivities = KubernetesActivities & ReleaseMetricsActivities & GitHubActivities & CoordinationActivities & SigningActivities & CalendarActivities & NotifyActivities & HookActivities;
