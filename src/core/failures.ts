// Every failure type tidegate raises (ApplicationFailure.type), in one union: what an operator, the
// CLI's exit codes and the rollback's "permanent or retry" rule can rely on. Activities and
// workflows raise failures only through failure(), so a type outside this list does not compile.
import { ApplicationFailure } from '@temporalio/common';

/** The outside systems whose API errors the activities classify (src/activities/failures.ts). */
export type FailingSystem = 'Kubernetes' | 'GitHub' | 'Prometheus';

/** Failures no retry can fix: non-retryable, with a message that says what to do. */
export const PERMANENT_FAILURE_TYPES = [
  'InvalidSpec',
  'AdapterUnavailable',
  'UnsafePayload',
  'RolloutFailed',
  'RolloutTimeout',
  'SupersedeTimeout',
  'KubernetesBadRequest',
  'KubernetesUnauthorized',
  'KubernetesForbidden',
  'KubernetesNotFound',
  'KubernetesInvalid',
  'PrometheusBadQuery',
  'PrometheusUnauthorized',
  'GitHubUnauthorized',
  'GitHubForbidden',
  'GitHubNotFound',
  'GitHubInvalid',
  'AllowedSignersInvalid',
  'SignatureInvalid',
  'CalendarInvalid',
  'NotificationRefused',
  // a hook stage (src/core/hooks.ts): its Job failed or its call was refused; ran past its timeout; cannot be run as written
  'HookFailed',
  'HookTimedOut',
  'HookInvalid',
  // how a release that did not ship ends its workflow (src/core/status.ts endingFailure); details: its ReleaseResult
  'ReleaseRolledBack',
  'ReleaseRejected',
  'ReleaseAborted',
  'ReleaseFailed',
] as const;
export type PermanentFailureType = (typeof PERMANENT_FAILURE_TYPES)[number];

/** Failures that retry: the system is down, busy, throttling, or not there yet. */
export type TransientFailureType =
  | `${FailingSystem}Unavailable`
  | `${FailingSystem}RateLimited`
  | `${FailingSystem}Http${number}`
  | 'KubernetesConflict'
  | 'KubernetesThrottled'
  | 'GitHubDeploymentPending'
  /** A notification sink that did not answer, or answered 5xx, 408 or 429: the same key is sent again. */
  | 'NotificationUnavailable'
  /** A hook's HTTP call that did not answer, or answered 5xx, 408 or 429: called again with the same Idempotency-Key. */
  | 'HookUnavailable'
  /** A signed decision whose verification activity failed for another reason than a bad proof (timed out, an issuer down past the retries): sending it again may pass. */
  | 'SignatureVerificationUnavailable';

export type FailureType = PermanentFailureType | TransientFailureType;

/** Types that mean "waited too long" rather than "broke": the release ends timed out (exit 13). */
export const TIMEOUT_FAILURES: ReadonlySet<FailureType> = new Set<FailureType>(['RolloutTimeout', 'SupersedeTimeout', 'HookTimedOut']);

/**
 * The ApplicationFailure of a type of the union: permanent types are non-retryable, transient ones
 * retry (after `nextRetryDelayMs` when the system said when to come back).
 *
 *   failure('RolloutTimeout', 'rollout of … did not finish within 10m') → non-retryable
 *   failure('KubernetesHttp503', 'patch …: (HTTP 503; will retry)')     → retryable
 */
export function failure(type: PermanentFailureType, message: string, options?: { details?: unknown[] }): ApplicationFailure;
export function failure(type: TransientFailureType, message: string, options?: { nextRetryDelayMs?: number }): ApplicationFailure;
export function failure(type: FailureType, message: string, options: { nextRetryDelayMs?: number; details?: unknown[] } = {}): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type,
    nonRetryable: isPermanentType(type),
    ...(options.nextRetryDelayMs !== undefined ? { nextRetryDelay: options.nextRetryDelayMs } : {}),
    ...(options.details ? { details: options.details } : {}),
  });
}

const PERMANENT: ReadonlySet<string> = new Set(PERMANENT_FAILURE_TYPES);

/** Whether a failure type (as read back from a failure) is one of the permanent types. */
export function isPermanentType(type: string | undefined): type is PermanentFailureType {
  return type !== undefined && PERMANENT.has(type);
}
