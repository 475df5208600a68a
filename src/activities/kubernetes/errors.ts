// Classifies Kubernetes API failures for Temporal: 400/401/403/404/422 cannot succeed
// on retry and become non-retryable failures with a message a human can act on; 409, 429, 5xx and
// network errors are transient and retry. Messages never carry request headers or credentials.
import { ApplicationFailure } from '@temporalio/common';

export const KUBE_ERROR_TYPES = {
  400: 'KubernetesBadRequest',
  401: 'KubernetesUnauthorized',
  403: 'KubernetesForbidden',
  404: 'KubernetesNotFound',
  422: 'KubernetesInvalid',
} as const;

const HINTS: Record<number, string> = {
  401: 'the worker\'s Kubernetes credentials were refused',
  403: 'the worker\'s ServiceAccount lacks this permission (see deploy/rbac.yaml)',
  404: 'check the namespace and names in the release spec',
  422: 'the API server rejected the object',
};

export function httpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** The API server's own message (a Status object's `message`), without headers. */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
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

/**
 * The failure to throw for an API error while doing `what` ("patch Deployment prod/checkout-green").
 * Permanent errors are non-retryable ApplicationFailures; transient ones retryable, typed by code.
 */
export function kubeFailure(err: unknown, what: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const code = httpCode(err);
  const message = `${what}: ${apiMessage(err)}`;
  if (code !== undefined && code in KUBE_ERROR_TYPES) {
    const type = KUBE_ERROR_TYPES[code as keyof typeof KUBE_ERROR_TYPES];
    const hint = HINTS[code];
    return ApplicationFailure.nonRetryable(`${message} (HTTP ${code}${hint ? `: ${hint}` : ''})`, type);
  }
  const type = code === 409 ? 'KubernetesConflict' : code === 429 ? 'KubernetesThrottled' : code !== undefined ? `KubernetesHttp${code}` : 'KubernetesUnavailable';
  return ApplicationFailure.retryable(code !== undefined ? `${message} (HTTP ${code}; will retry)` : `${message} (will retry)`, type);
}

/** Runs one API call, turning its failure into a classified ApplicationFailure. */
export async function kube<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
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
