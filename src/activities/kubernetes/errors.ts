// How the Kubernetes adapter reads its client's errors (status code, the API server's Status
// message) and its table of permanent statuses for the shared classifier in ../failures.ts:
// 400/401/403/404/422 cannot succeed on retry; 409, 429, 5xx and network errors retry. Also the
// optimistic-concurrency retry of read-modify-replace writes.
import { ApplicationFailure } from '@temporalio/common';
import { apiFailure, type PermanentStatuses } from '../failures.js';

export const KUBE_PERMANENT: PermanentStatuses = {
  400: ['KubernetesBadRequest', ''],
  401: ['KubernetesUnauthorized', 'the worker\'s Kubernetes credentials were refused'],
  403: ['KubernetesForbidden', 'the worker\'s ServiceAccount lacks this permission (see deploy/base/rbac.yaml)'],
  404: ['KubernetesNotFound', 'check the namespace and names in the release spec'],
  422: ['KubernetesInvalid', 'the API server rejected the object'],
};

const KUBE_TRANSIENT = { 409: 'KubernetesConflict', 429: 'KubernetesThrottled' } as const;

export function httpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** The API server's own message (a Status object's `message`), without headers. */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown } | undefined)?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 300);
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string') return message;
  if (err instanceof Error && httpCode(err) === undefined) return err.message; // network errors
  return `HTTP ${httpCode(err) ?? '?'}`;
}

export const isConflict = (err: unknown): boolean => httpCode(err) === 409;
export const isNotFound = (err: unknown): boolean => httpCode(err) === 404;

/** The failure to throw for an API error while doing `what` ("patch Deployment prod/checkout-green"). */
export function kubeFailure(err: unknown, what: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  return apiFailure({ system: 'Kubernetes', what, status: httpCode(err), message: apiMessage(err), permanent: KUBE_PERMANENT, transient: KUBE_TRANSIENT });
}

/** Runs one API call, turning its failure into a classified ApplicationFailure. */
export async function kube<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw kubeFailure(err, what);
  }
}

/** Runs one read; a 404 is `undefined` (the object is absent), any other failure is classified. */
export async function kubeOptional<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw kubeFailure(err, what);
  }
}

/**
 * Read-modify-write with optimistic concurrency (client-go's RetryOnConflict): `attempt` reads the
 * object and writes it back with its resourceVersion; a 409 means someone else wrote in between,
 * so read again. After `tries` conflicts the last one surfaces (retryable) to Temporal's retry.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const conflict = isConflict(err) || (err instanceof ApplicationFailure && err.type === 'KubernetesConflict');
      if (!conflict || i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 50 * i));
    }
  }
}
