// One classifier for every adapter's API errors, so that Kubernetes, GitHub and Prometheus failures
// reach Temporal with the same rules and the same message shape: a status in the system's table of
// permanent statuses cannot succeed on retry (non-retryable, typed, with a hint saying what to do);
// a rate limit retries after the delay the system asked for; anything else (other statuses, network
// errors) is transient and retries. Each adapter keeps only its table and how to read the status,
// message and headers from its client's error. Messages never carry request headers or credentials.
import type { ApplicationFailure } from '@temporalio/common';
import { failure, type FailingSystem, type PermanentFailureType, type TransientFailureType } from '../core/failures.js';

/** HTTP status → [failure type, what the human should know or do]; an empty hint adds nothing. */
export type PermanentStatuses = Readonly<Record<number, readonly [type: PermanentFailureType, hint: string]>>;

export interface ApiFailure {
  /** The system, the prefix of transient types: "Kubernetes" → KubernetesHttp503, KubernetesUnavailable. */
  system: FailingSystem;
  /** What was being done, naming the object: "patch Deployment prod/checkout-green". */
  what: string;
  /** The HTTP status; undefined for a network error (no answer at all). */
  status: number | undefined;
  /** The system's own message (never headers). */
  message: string;
  permanent: PermanentStatuses;
  /** Types of transient statuses that have a name of their own (default `<system>Http<status>`). */
  transient?: Readonly<Record<number, TransientFailureType>>;
  /** Set when the system said when to come back (a rate limit): retryable `<system>RateLimited`, after it. */
  retryDelayMs?: number;
}

/** Whether `status` is in the table of permanent statuses. */
export function isPermanent(status: number | undefined, permanent: PermanentStatuses): boolean {
  return status !== undefined && Object.hasOwn(permanent, status);
}

/**
 * The ApplicationFailure for an API error. Shapes:
 *   permanent     `<what>: <message> (HTTP <status>: <hint>)`                          non-retryable, the table's type
 *   rate limited  `<what>: <message> (HTTP <status>: rate limited; retrying in <n>s)`  retryable after the delay
 *   transient     `<what>: <message> (HTTP <status>; will retry)`, or `(will retry)` without an answer
 */
export function apiFailure(f: ApiFailure): ApplicationFailure {
  const { system, what, status, message } = f;
  const http = status !== undefined ? `HTTP ${status}` : undefined;
  if (f.retryDelayMs !== undefined) {
    const delayMs = Math.max(0, f.retryDelayMs);
    return failure(`${system}RateLimited`, `${what}: ${message} (${http ? `${http}: ` : ''}rate limited; retrying in ${Math.ceil(delayMs / 1000)}s, after the reset)`, {
      nextRetryDelayMs: delayMs,
    });
  }
  if (status !== undefined && isPermanent(status, f.permanent)) {
    const [type, hint] = f.permanent[status] ?? [];
    if (type) return failure(type, `${what}: ${message} (${http}${hint ? `: ${hint}` : ''})`);
  }
  if (status === undefined) return failure(`${system}Unavailable`, `${what}: ${message} (will retry)`);
  return failure(f.transient?.[status] ?? `${system}Http${status}`, `${what}: ${message} (${http}; will retry)`);
}
